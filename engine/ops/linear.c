/* LINEAR: y = act(x W^T + bias), x (..., F), W (O, F) in PyTorch layout, bias (O) optional,
 * act_param (O) for prelu/srelu. Leading dims of x are rows, like torch.nn.Linear. */
#include "rows.h"

#include <stdio.h>
#include <string.h>

static int64_t rows_of(const mvk_tensor *x) {
    int64_t r = 1;
    for (int i = 0; i + 1 < x->ndim; i++) r *= x->ne[i];
    return r;
}

static mvk_status shape(const mvk_graph *g, const mvk_node *n, int *ndim, int64_t ne[4], char *msg,
                        size_t msgsz) {
    const mvk_tensor *x = mvk_graph_tensor(g, n->src[MVK_SRC_X]);
    const mvk_tensor *w = mvk_graph_tensor(g, n->src[MVK_SRC_W]);
    const mvk_tensor *b = mvk_graph_tensor(g, n->src[MVK_SRC_BIAS]);
    const mvk_tensor *a = mvk_graph_tensor(g, n->src[MVK_SRC_ACT_PARAM]);
    if (!x) return snprintf(msg, msgsz, "needs x (N, F) in slot 0"), MVK_ERR_INVALID_ARG;
    if (!w) return snprintf(msg, msgsz, "needs w (O, F) in slot 1"), MVK_ERR_INVALID_ARG;
    for (int s = 0; s < MVK_MAX_SRC; s++)
        if (n->src[s] >= 0 && s != MVK_SRC_X && s != MVK_SRC_W && s != MVK_SRC_BIAS &&
            s != MVK_SRC_ACT_PARAM)
            return snprintf(msg, msgsz, "slot %d is not used by linear (x 0, w 1, bias 2, act_param 6)",
                            s), MVK_ERR_INVALID_ARG;
    if ((unsigned)n->p.act >= MVK_ACT_COUNT)
        return snprintf(msg, msgsz, "unknown activation %d", (int)n->p.act), MVK_ERR_INVALID_ARG;
    int64_t f = x->ne[x->ndim - 1];
    if (w->ndim != 2)
        return snprintf(msg, msgsz, "w %s must be 2-D (O, F), it has %d dimensions", w->name, w->ndim),
               MVK_ERR_SHAPE;
    int64_t o = w->ne[0];
    if (w->ne[1] != f)
        return snprintf(msg, msgsz, "w %s is (%lld, %lld) but x %s has F = %lld features (last axis)",
                        w->name, (long long)o, (long long)w->ne[1], x->name, (long long)f),
               MVK_ERR_SHAPE;
    if (b && mvk_tensor_numel(b) != o)
        return snprintf(msg, msgsz, "bias %s has %lld elements, w has O = %lld outputs", b->name,
                        (long long)mvk_tensor_numel(b), (long long)o), MVK_ERR_SHAPE;
    bool need_param = n->p.act == MVK_ACT_PRELU || n->p.act == MVK_ACT_SRELU;
    if (need_param && !a)
        return snprintf(msg, msgsz, "activation %s needs act_param (O) in slot 6", mvk_act_str(n->p.act)),
               MVK_ERR_INVALID_ARG;
    if (a && mvk_tensor_numel(a) != o)
        return snprintf(msg, msgsz, "act_param %s has %lld elements, w has O = %lld outputs", a->name,
                        (long long)mvk_tensor_numel(a), (long long)o), MVK_ERR_SHAPE;
    *ndim = x->ndim;
    memcpy(ne, x->ne, sizeof x->ne);
    ne[x->ndim - 1] = o;
    return MVK_OK;
}

/* CPU class (llvmpipe): per-invocation register blocks, no shared memory (linear_cpu.comp). */
/* Floats per load of the CPU kernel along F. */
static uint32_t cpu_chunk(const mvk_ctx *ctx, uint32_t f) {
    return f % 8 == 0 && ctx->shader_int64 ? 8 : f % 4 == 0 ? 4 : 1;
}

static mvk_status record_cpu(mvk_rec *r, const mvk_node *n, const mvk_binding *b, uint32_t rows,
                             uint32_t f, uint32_t o) {
    mvk_ctx *ctx = mvk_rec_ctx(r);
    /* Blocks of up to 16 x 16 outputs (256 accumulators: the largest size known to be safe on
     * lavapipe 22.3.6), shrunk to the problem so small N or O do not waste lanes. */
    uint32_t tm = mvk_rows_pow2(rows, 16), tn = mvk_rows_pow2(o, 16);
    /* 8 invocations (one llvmpipe SIMD row) per workgroup: many small workgroups keep all
     * worker threads busy even for GEMV-sized problems. */
    uint32_t wx = mvk_rows_pow2(MVK_CEIL_DIV(o, tn), 8), wy = 8 / wx;
    uint32_t shader;
    if (cpu_chunk(ctx, f) == 8) {
        shader = MVK_SHADER_linear_cpu_k8;
    } else if (cpu_chunk(ctx, f) == 4) {
        shader = MVK_SHADER_linear_cpu_k4;
        if (f % 8 == 0)
            mvk_log_once(ctx, "linear.noint64", "linear: the device has no shaderInt64; using 4-float "
                         "loads (slower on CPU devices)");
    } else {
        shader = MVK_SHADER_linear_cpu_k1;
        mvk_log_once(ctx, "linear.scalar", "linear: F = %u is not a multiple of 4; using scalar "
                     "loads (slower)", f);
    }
    uint32_t spec[9] = {8, 1, 1, tm, tn, (uint32_t)n->p.act, b[2].buffer != VK_NULL_HANDLE,
                        b[3].buffer != VK_NULL_HANDLE, o % 4 == 0 && tn % 4 == 0};
    uint32_t tiles_n = MVK_CEIL_DIV(rows, wy * tm), tiles_o = MVK_CEIL_DIV(o, wx * tn);
    uint32_t gx, gy;
    mvk_split_groups(ctx, (uint64_t)tiles_n * tiles_o, &gx, &gy);
    struct { uint32_t n, f, o, tiles_n, wx; } push = {rows, f, o, tiles_n, wx};
    mvk_binding bb[6] = {b[0], b[1], b[2], b[3], b[4], b[4]};
    return mvk_rec_dispatch(r, shader, spec, MVK_ARRAY_LEN(spec), bb, 6, &push, sizeof push, gx, gy, 1);
}

/* GPU class: shared-memory tiles with register blocking (linear_gpu.comp). */
typedef struct gpu_tiles {
    uint32_t wx, wy, rm, rn, bm, bn, bk;
} gpu_tiles;

static gpu_tiles choose_gpu_tiles(const mvk_device_info *d, uint32_t rows, uint32_t f, uint32_t o) {
    gpu_tiles t;
    /* 16 x 16 invocations where the device allows 256, else 16 x 8 (the spec minimum is 128). */
    t.wx = 16;
    t.wy = d->max_workgroup_invocations >= 256 && d->max_workgroup_size[1] >= 16 ? 16 : 8;
    if (d->max_workgroup_size[0] < 16) t.wx = d->max_workgroup_size[0] >= 8 ? 8 : 4;
    /* Up to 4 x 4 outputs per invocation, fewer when N or O is small. */
    t.rm = mvk_rows_pow2(MVK_CEIL_DIV(rows, t.wy), 4);
    t.rn = mvk_rows_pow2(MVK_CEIL_DIV(o, t.wx), 4);
    t.bm = t.wy * t.rm;
    t.bn = t.wx * t.rn;
    t.bk = 32;
    while (t.bk > 4 && (uint64_t)t.bk * (t.bm + t.bn + 2) * 4 > d->max_shared_memory) t.bk /= 2;
    if (t.bk > MVK_MAX(f, 4u)) t.bk = mvk_rows_pow2(f, t.bk); /* tiny F: no padded K steps */
    return t;
}

/* Loop iterations per invocation of the GPU kernel: K steps times the staging loops. */
static uint64_t gpu_loop_iters(gpu_tiles t, uint32_t f) {
    uint64_t nt = (uint64_t)t.wx * t.wy;
    return MVK_CEIL_DIV(f, t.bk) * (1 + MVK_CEIL_DIV(t.bm * t.bk, nt) + MVK_CEIL_DIV(t.bn * t.bk, nt));
}

static mvk_status record_gpu(mvk_rec *r, const mvk_node *n, const mvk_binding *b, uint32_t rows,
                             uint32_t f, uint32_t o) {
    mvk_ctx *ctx = mvk_rec_ctx(r);
    gpu_tiles t = choose_gpu_tiles(&ctx->info, rows, f, o);
    uint32_t spec[8] = {t.wx, t.wy, 1, t.rm, t.rn, t.bk, t.bm, t.bn};
    uint32_t flags = (b[2].buffer ? 1u : 0u) | (b[3].buffer ? 2u : 0u);
    uint32_t tiles_n = MVK_CEIL_DIV(rows, t.bm), tiles_o = MVK_CEIL_DIV(o, t.bn);
    uint32_t gx, gy;
    mvk_split_groups(ctx, (uint64_t)tiles_n * tiles_o, &gx, &gy);
    struct { uint32_t n, f, o, tiles_n; int32_t act; uint32_t flags; } push = {rows, f, o, tiles_n, (int32_t)n->p.act, flags};
    return mvk_rec_dispatch(r, MVK_SHADER_linear_gpu, spec, MVK_ARRAY_LEN(spec), b, 5, &push,
                            sizeof push, gx, gy, 1);
}

static mvk_status record(mvk_rec *r, const mvk_node *n) {
    const mvk_graph *g = mvk_rec_graph(r);
    const mvk_tensor *x = mvk_graph_tensor(g, n->src[MVK_SRC_X]);
    const mvk_tensor *w = mvk_graph_tensor(g, n->src[MVK_SRC_W]);
    uint32_t rows = (uint32_t)rows_of(x), f = (uint32_t)x->ne[x->ndim - 1], o = (uint32_t)w->ne[0];
    bool has_bias = n->src[MVK_SRC_BIAS] >= 0, has_param = n->src[MVK_SRC_ACT_PARAM] >= 0;
    mvk_binding b[5] = {mvk_rec_tensor(r, n->src[MVK_SRC_X]), mvk_rec_tensor(r, n->src[MVK_SRC_W]),
                        has_bias ? mvk_rec_tensor(r, n->src[MVK_SRC_BIAS]) : (mvk_binding){0},
                        has_param ? mvk_rec_tensor(r, n->src[MVK_SRC_ACT_PARAM]) : (mvk_binding){0},
                        mvk_rec_tensor(r, n->dst)};
    /* llvmpipe silently ends loops after 65535 iterations per invocation (see rows.h): on
     * CPU-type devices use a kernel whose K loop fits, or refuse. */
    mvk_ctx *ctx = mvk_rec_ctx(r);
    bool cpu_device = ctx->info.type == MVK_DEVICE_CPU;
    bool cpu_fits = !cpu_device || f / cpu_chunk(ctx, f) <= MVK_LOOP_BUDGET;
    bool gpu_fits = !cpu_device ||
                    gpu_loop_iters(choose_gpu_tiles(&ctx->info, rows, f, o), f) <= MVK_LOOP_BUDGET;
    if (ctx->kernels == MVK_KERNELS_CPU && cpu_fits) return record_cpu(r, n, b, rows, f, o);
    if (!gpu_fits)
        return mvk_fail(ctx, MVK_ERR_LIMIT, "linear: F = %u is too long for one invocation's loops "
                        "on this CPU device (llvmpipe caps loops at 65535 iterations)", f);
    if (ctx->kernels == MVK_KERNELS_CPU)
        mvk_log_once(ctx, "linear.longf", "linear: F = %u: shared-memory kernel (the CPU kernel's "
                     "loop would pass llvmpipe's 65535-iteration cap)", f);
    return record_gpu(r, n, b, rows, f, o);
}

static void ref(const mvk_node *n, const mvk_host_tensor *src, float *dst, const int64_t *dst_ne) {
    (void)dst_ne;
    const mvk_host_tensor *x = &src[MVK_SRC_X], *w = &src[MVK_SRC_W];
    int64_t f = x->ne[x->ndim - 1], o = w->ne[0], rows = 1;
    for (int i = 0; i + 1 < x->ndim; i++) rows *= x->ne[i];
    const float *bias = src[MVK_SRC_BIAS].data, *param = src[MVK_SRC_ACT_PARAM].data;
    for (int64_t i = 0; i < rows; i++)
        for (int64_t j = 0; j < o; j++) {
            double acc = bias ? bias[j] : 0.0;
            for (int64_t k = 0; k < f; k++) acc += (double)x->data[i * f + k] * w->data[j * f + k];
            dst[i * o + j] = mvk_act_apply(n->p.act, (float)acc, param ? param[j] : 0.0f);
        }
}

static double flops(const mvk_graph *g, const mvk_node *n) {
    const mvk_tensor *x = mvk_graph_tensor(g, n->src[MVK_SRC_X]);
    const mvk_tensor *w = mvk_graph_tensor(g, n->src[MVK_SRC_W]);
    return 2.0 * (double)rows_of(x) * (double)w->ne[0] * (double)w->ne[1];
}

const mvk_op_impl mvk_op_linear = {"linear", shape, NULL, record, ref, flops};
