/* HRR: circular convolution (binding) or correlation (unbinding) of channel-last rows with a key.
 *
 *   x (..., D): all leading dimensions are rows, P of them; key (K, D) with K = 1 or P.
 *   mode 0: z[o] = sum_m k[m] x[(o - m) mod D]      mode 1: z[o] = sum_m k[m] x[(o + m) mod D]
 *
 * Two paths:
 *   DIRECT  the definition, O(D^2) per row, one dispatch (shaders/hrr_direct.comp).
 *   FFT     hrr_pack copies x and the key into one real scratch of P + K rows; one VkFFT R2C
 *           transforms them all; hrr_cmul multiplies each row's spectrum by its key's (conjugated
 *           for correlation), in place; a normalised VkFFT C2R writes the P rows into the
 *           output. Scratch and spectra live in the op's workspace; both VkFFT plans are made at
 *           record time and freed with the plan (mvk_rec_defer).
 * AUTO takes DIRECT for small D or little work, and FFT above the crossover measured on lavapipe
 * (docs/vkfft.md); it also stays DIRECT where VkFFT cannot be used (odd D, buffers beyond the
 * range VkFFT can bind) and says so once per context.
 */
#include "internal.h"

#include <stdio.h>
#include <string.h>

/* AUTO: FFT from this D on. Measured on lavapipe (docs/vkfft.md): the direct kernel wins up to
 * D = 128 and loses 1.5-2.3x at 256 and 3.4-4x at 640... */
#define HRR_FFT_MIN_D 256
/* ...and only with at least this many multiply-adds for the direct path (P * D * D): below it the
 * direct kernel takes a few ms at most, less than the 0.2-0.6 s it costs to make the two VkFFT
 * plans (runtime glslang plus pipeline creation). */
#define HRR_FFT_MIN_MACS (1u << 24)
/* hrr_direct_shared stages ROWS * D floats per operand: 2 x 2048 x 4 = 16 KiB of shared memory,
 * the Vulkan minimum for maxComputeSharedMemorySize. */
#define HRR_SHARED_MAX 2048u

typedef struct hrr_dims {
    int64_t p, d, k;
} hrr_dims;

static hrr_dims dims_of(const mvk_graph *g, const mvk_node *n) {
    const mvk_tensor *x = mvk_graph_tensor(g, n->src[0]), *k = mvk_graph_tensor(g, n->src[1]);
    hrr_dims r;
    r.d = x->ne[x->ndim - 1];
    r.p = mvk_tensor_numel(x) / r.d;
    r.k = mvk_tensor_numel(k) / r.d;
    return r;
}

static mvk_status shape(const mvk_graph *g, const mvk_node *n, int *ndim, int64_t ne[4], char *msg,
                        size_t msgsz) {
    const mvk_tensor *x = mvk_graph_tensor(g, n->src[0]), *k = mvk_graph_tensor(g, n->src[1]);
    if (!x || !k)
        return snprintf(msg, msgsz, "needs x in slot 0 and the key in slot 1"), MVK_ERR_INVALID_ARG;
    if (n->p.mode != 0 && n->p.mode != 1)
        return snprintf(msg, msgsz, "mode %d (0 convolution, 1 correlation)", n->p.mode),
               MVK_ERR_INVALID_ARG;
    if (n->p.path != MVK_HRR_AUTO && n->p.path != MVK_HRR_FFT && n->p.path != MVK_HRR_DIRECT)
        return snprintf(msg, msgsz, "path %d (MVK_HRR_AUTO, MVK_HRR_FFT or MVK_HRR_DIRECT)",
                        n->p.path),
               MVK_ERR_INVALID_ARG;
    int64_t d = x->ne[x->ndim - 1], kd = k->ne[k->ndim - 1];
    if (kd != d)
        return snprintf(msg, msgsz, "the key %s has length %lld along its last axis, x %s has %lld",
                        k->name, (long long)kd, x->name, (long long)d),
               MVK_ERR_SHAPE;
    int64_t p = mvk_tensor_numel(x) / d, kk = mvk_tensor_numel(k) / d;
    if (kk != 1 && kk != p)
        return snprintf(msg, msgsz, "the key %s has %lld rows; it needs 1 or one per row of x "
                        "(%lld)", k->name, (long long)kk, (long long)p),
               MVK_ERR_SHAPE;
    if ((uint64_t)(p + kk) * (uint64_t)d > UINT32_MAX)
        return snprintf(msg, msgsz, "%lld rows of %lld are too many", (long long)p, (long long)d),
               MVK_ERR_LIMIT;
    *ndim = x->ndim;
    memcpy(ne, x->ne, sizeof x->ne);
    return MVK_OK;
}

/* The path by shape alone (the record step may still fall back from FFT to DIRECT). */
static int choose_path(const mvk_node *n, hrr_dims s, const char **why) {
    if (n->p.path != MVK_HRR_AUTO) {
        *why = "requested";
        return n->p.path;
    }
    if (s.d % 2) {
        *why = "odd D (VkFFT's R2C needs even lengths above one pass)";
        return MVK_HRR_DIRECT;
    }
    if (s.d < HRR_FFT_MIN_D) {
        *why = "D below the FFT crossover";
        return MVK_HRR_DIRECT;
    }
    if ((double)s.p * (double)s.d * (double)s.d < HRR_FFT_MIN_MACS) {
        *why = "too little work to pay for making VkFFT plans";
        return MVK_HRR_DIRECT;
    }
    *why = "D at or above the FFT crossover";
    return MVK_HRR_FFT;
}

static uint64_t align_up(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }

/* Workspace layout of the FFT path: real scratch R [P+K][D], then spectra S [P+K][D/2+1]. */
typedef struct fft_layout {
    uint64_t r_off, r_bytes, s_off, s_bytes, total;
} fft_layout;

static fft_layout layout_of(const mvk_ctx *ctx, hrr_dims s) {
    fft_layout l;
    uint64_t rows = (uint64_t)(s.p + s.k), f = (uint64_t)s.d / 2 + 1;
    l.r_off = 0;
    l.r_bytes = rows * (uint64_t)s.d * 4;
    l.s_off = align_up(l.r_bytes, mvk_buffer_alignment(ctx));
    l.s_bytes = rows * f * 8;
    l.total = l.s_off + l.s_bytes;
    return l;
}

static uint64_t workspace(const mvk_graph *g, const mvk_node *n) {
    hrr_dims s = dims_of(g, n);
    const char *why;
    if (choose_path(n, s, &why) != MVK_HRR_FFT) return 0;
    return layout_of(g->ctx, s).total;
}

/* Outputs per invocation of hrr_direct (B in shaders/hrr_direct.comp). */
#define HRR_DIRECT_BLOCK 16

static mvk_status record_direct(mvk_rec *r, const mvk_node *n, hrr_dims s) {
    mvk_ctx *ctx = mvk_rec_ctx(r);
    uint32_t nb = (uint32_t)MVK_CEIL_DIV(s.d, HRR_DIRECT_BLOCK), kall = s.k == 1 ? 0 : 1;
    /* The kernel loops over D / 16 key chunks; llvmpipe stops loops at 65535 iterations. */
    if (nb > 65535)
        return mvk_fail(ctx, MVK_ERR_UNSUPPORTED, "hrr: D %lld is too long for the direct path; "
                        "use MVK_HRR_FFT", (long long)s.d);
    struct { uint32_t rows, d, nb, mode; } push = {(uint32_t)s.p, (uint32_t)s.d, nb,
                                                   (uint32_t)n->p.mode};
    mvk_binding b[3] = {mvk_rec_tensor(r, n->src[0]), mvk_rec_tensor(r, n->src[1]),
                        mvk_rec_tensor(r, n->dst)};
    uint32_t gx, gy;
    if (ctx->kernels == MVK_KERNELS_GPU && (uint64_t)s.d <= HRR_SHARED_MAX) {
        uint32_t rows = s.d <= 512 ? (uint32_t)(512 / s.d) : 1;
        uint32_t spec[7] = {64, 1, 1, kall, 0, rows, rows * (uint32_t)s.d};
        mvk_split_groups(ctx, MVK_CEIL_DIV((uint64_t)s.p, rows), &gx, &gy);
        return mvk_rec_dispatch(r, MVK_SHADER_hrr_direct_shared, spec, 7, b, 3, &push,
                                sizeof push, gx, gy, 1);
    }
    /* vec4 loads where rows and keys are 16-byte aligned (D % 4 == 0; tensor offsets are). */
    uint32_t spec[5] = {64, 1, 1, kall, s.d % 4 == 0 ? 1u : 0u};
    mvk_split_groups(ctx, MVK_CEIL_DIV((uint64_t)s.p * nb, 64), &gx, &gy);
    return mvk_rec_dispatch(r, MVK_SHADER_hrr_direct, spec, 5, b, 3, &push, sizeof push, gx, gy, 1);
}

/* The highest byte, rounded to 8, that VkFFT's descriptors reach: it binds from byte 0. */
static uint64_t fft_span(const mvk_rec *r, const mvk_node *n, fft_layout l) {
    mvk_binding ws = mvk_rec_workspace(r), dst = mvk_rec_tensor(r, n->dst);
    return align_up(MVK_MAX(ws.offset + l.total, dst.offset + dst.range), 8);
}

static mvk_status record_fft(mvk_rec *r, const mvk_node *n, hrr_dims s, fft_layout l) {
    mvk_ctx *ctx = mvk_rec_ctx(r);
    mvk_binding ws = mvk_rec_workspace(r);
    mvk_binding x = mvk_rec_tensor(r, n->src[0]), key = mvk_rec_tensor(r, n->src[1]);
    mvk_binding dst = mvk_rec_tensor(r, n->dst);
    mvk_binding rb = {ws.buffer, ws.offset + l.r_off, l.r_bytes};
    mvk_binding sb = {ws.buffer, ws.offset + l.s_off, l.s_bytes};
    uint64_t f = (uint64_t)s.d / 2 + 1;
    mvk_binding sx = {ws.buffer, sb.offset, (uint64_t)s.p * f * 8}; /* the P rows of x */
    const uint32_t wg = 128;
    uint32_t spec[3] = {wg, 1, 1}, gx, gy;

    /* The plans first: their set-up submits work of its own, outside our command buffer. */
    mvk_fft *fwd, *inv;
    MVK_TRY(mvk_fft_create(ctx, (uint32_t)s.d, (uint64_t)(s.p + s.k), rb, sb, &fwd));
    MVK_TRY(mvk_rec_defer(r, mvk_fft_destroy, fwd));
    MVK_TRY(mvk_fft_create(ctx, (uint32_t)s.d, (uint64_t)s.p, dst, sx, &inv));
    MVK_TRY(mvk_rec_defer(r, mvk_fft_destroy, inv));

    /* 1. x and the key into the real scratch. */
    struct { uint32_t nx, n; } pack = {(uint32_t)(s.p * s.d), (uint32_t)((s.p + s.k) * s.d)};
    mvk_binding b[3] = {x, key, rb};
    mvk_split_groups(ctx, MVK_CEIL_DIV((uint64_t)pack.n, wg), &gx, &gy);
    MVK_TRY(mvk_rec_dispatch(r, MVK_SHADER_hrr_pack, spec, 3, b, 3, &pack, sizeof pack, gx, gy, 1));
    /* 2. R2C of all P + K rows. VkFFT only orders its own kernels: barriers around it. */
    mvk_rec_barrier(r);
    MVK_TRY(mvk_fft_record(fwd, mvk_rec_cmd(r), -1));
    mvk_rec_barrier(r);
    /* 3. Spectrum products, in place over the x rows. */
    struct { uint32_t rows, f, kall, mode; } cm = {(uint32_t)s.p, (uint32_t)f, s.k == 1 ? 0u : 1u,
                                                   (uint32_t)n->p.mode};
    mvk_split_groups(ctx, MVK_CEIL_DIV((uint64_t)s.p * f, wg), &gx, &gy);
    MVK_TRY(mvk_rec_dispatch(r, MVK_SHADER_hrr_cmul, spec, 3, &sb, 1, &cm, sizeof cm, gx, gy, 1));
    /* 4. Normalised C2R into the output. */
    mvk_rec_barrier(r);
    MVK_TRY(mvk_fft_record(inv, mvk_rec_cmd(r), 1));
    mvk_rec_barrier(r);
    return MVK_OK;
}

static mvk_status record(mvk_rec *r, const mvk_node *n) {
    mvk_ctx *ctx = mvk_rec_ctx(r);
    hrr_dims s = dims_of(mvk_rec_graph(r), n);
    const char *why;
    int path = choose_path(n, s, &why);
    char key[64];
    if (path == MVK_HRR_FFT) {
        fft_layout l = layout_of(ctx, s);
        if (n->p.path == MVK_HRR_AUTO &&
            fft_span(r, n, l) > ctx->info.max_storage_buffer_range) {
            path = MVK_HRR_DIRECT;
            why = "VkFFT binds buffers from byte 0 and this one reaches past maxStorageBufferRange";
        } else {
            snprintf(key, sizeof key, "hrr:fft:%lld:%.24s", (long long)s.d, why);
            mvk_log_once(ctx, key, "hrr: D %lld, %lld rows: FFT path (%s)", (long long)s.d,
                         (long long)s.p, why);
            return record_fft(r, n, s, l);
        }
    }
    snprintf(key, sizeof key, "hrr:direct:%lld:%.24s", (long long)s.d, why);
    mvk_log_once(ctx, key, "hrr: D %lld, %lld rows: direct path (%s)", (long long)s.d,
                 (long long)s.p, why);
    return record_direct(r, n, s);
}

static void ref(const mvk_node *n, const mvk_host_tensor *src, float *dst, const int64_t *dst_ne) {
    const mvk_host_tensor *x = &src[0], *k = &src[1];
    int64_t d = x->ne[x->ndim - 1];
    int64_t count = dst_ne[0] * dst_ne[1] * dst_ne[2] * dst_ne[3];
    int64_t p = count / d, kn = (k->ne[0] * k->ne[1] * k->ne[2] * k->ne[3]) / d;
    for (int64_t row = 0; row < p; row++) {
        const float *xr = x->data + row * d, *kr = k->data + (kn == 1 ? 0 : row) * d;
        for (int64_t o = 0; o < d; o++) {
            double acc = 0;
            for (int64_t m = 0; m < d; m++) {
                int64_t j = n->p.mode == 0 ? (o - m + d) % d : (o + m) % d;
                acc += (double)kr[m] * (double)xr[j];
            }
            dst[row * d + o] = (float)acc;
        }
    }
}

static double flops(const mvk_graph *g, const mvk_node *n) {
    hrr_dims s = dims_of(g, n);
    const char *why;
    if (choose_path(n, s, &why) == MVK_HRR_DIRECT) return 2.0 * (double)s.p * (double)s.d * (double)s.d;
    /* Three real transforms of ~2.5 D log2 D each (P + K forward, P inverse), 6 per bin. */
    double lg = 0;
    for (int64_t v = 1; v < s.d; v *= 2) lg++;
    return 2.5 * (double)s.d * lg * (double)(2 * s.p + s.k) + 6.0 * (double)s.p * (double)(s.d / 2 + 1);
}

const mvk_op_impl mvk_op_hrr = {"hrr", shape, workspace, record, ref, flops};
