/* CONV2D: implicit-GEMM convolution with a fused prologue (per-input-channel affine + activation
 * on the loaded input) and epilogue (bias, activation, scaled residual add).
 *
 * Two kernels, chosen by the context's kernel class:
 *   conv2d_cpu  register-blocked, no shared memory (lavapipe and other CPU devices);
 *   conv2d_gpu  shared-memory tiles sized from the device limits.
 * Shapes, kernel, stride, padding, activations and tiles are specialisation constants; the batch
 * is a push constant. The shaders document the algorithms. */
#include "conv2d.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- shape ---------------------------------------------------------------------------------- */

static bool act_needs_param(mvk_act a) { return a == MVK_ACT_PRELU || a == MVK_ACT_SRELU; }

static mvk_status check_vec(const mvk_graph *g, const mvk_node *n, int slot, int64_t len,
                            const char *what, char *msg, size_t msgsz) {
    const mvk_tensor *t = mvk_graph_tensor(g, n->src[slot]);
    if (t && mvk_tensor_numel(t) != len)
        return snprintf(msg, msgsz, "%s %s has %lld elements, expected %lld", what, t->name,
                        (long long)mvk_tensor_numel(t), (long long)len),
               MVK_ERR_SHAPE;
    return MVK_OK;
}

static mvk_status shape(const mvk_graph *g, const mvk_node *n, int *ndim, int64_t ne[4], char *msg,
                        size_t msgsz) {
    const mvk_tensor *x = mvk_graph_tensor(g, n->src[MVK_SRC_X]);
    const mvk_tensor *w = mvk_graph_tensor(g, n->src[MVK_SRC_W]);
    if (!x || !w)
        return snprintf(msg, msgsz, "needs x in slot %d and weights in slot %d", MVK_SRC_X,
                        MVK_SRC_W),
               MVK_ERR_INVALID_ARG;
    if (x->ndim != 4)
        return snprintf(msg, msgsz, "x %s must be (N, Ci, H, W), has %d dimensions", x->name,
                        x->ndim),
               MVK_ERR_SHAPE;
    if (w->ndim != 4 || w->ne[1] != x->ne[1])
        return snprintf(msg, msgsz, "weights %s must be (Co, %lld, kh, kw) for x %s", w->name,
                        (long long)x->ne[1], x->name),
               MVK_ERR_SHAPE;
    const mvk_op_params *p = &n->p;
    if (p->stride < 1 || p->pad < 0)
        return snprintf(msg, msgsz, "stride %d / pad %d out of range", p->stride, p->pad),
               MVK_ERR_INVALID_ARG;
    if ((unsigned)p->pre_act >= MVK_ACT_COUNT || (unsigned)p->act >= MVK_ACT_COUNT)
        return snprintf(msg, msgsz, "unknown activation"), MVK_ERR_INVALID_ARG;
    if (w->ne[2] > 32 || w->ne[3] > 32 || p->pad > 32 || p->stride > 32)
        return snprintf(msg, msgsz, "kernel %lldx%lld, stride %d, pad %d: above 32 is not "
                        "supported", (long long)w->ne[2], (long long)w->ne[3], p->stride, p->pad),
               MVK_ERR_UNSUPPORTED;
    int64_t hp = x->ne[2] + 2 * p->pad, wp = x->ne[3] + 2 * p->pad;
    if (hp < w->ne[2] || wp < w->ne[3])
        return snprintf(msg, msgsz, "kernel %lldx%lld larger than the padded input %lldx%lld",
                        (long long)w->ne[2], (long long)w->ne[3], (long long)hp, (long long)wp),
               MVK_ERR_SHAPE;
    int64_t co = w->ne[0], ci = x->ne[1];
    ne[0] = x->ne[0];
    ne[1] = co;
    ne[2] = (hp - w->ne[2]) / p->stride + 1;
    ne[3] = (wp - w->ne[3]) / p->stride + 1;
    *ndim = 4;
    if (x->ne[0] * co * ne[2] * ne[3] >= (1ll << 32) || mvk_tensor_numel(x) >= (1ll << 32) ||
        mvk_tensor_numel(w) >= (1ll << 32))
        return snprintf(msg, msgsz, "too large for 32-bit indexing"), MVK_ERR_LIMIT;
    mvk_status s;
    if ((s = check_vec(g, n, MVK_SRC_BIAS, co, "bias", msg, msgsz)) ||
        (s = check_vec(g, n, MVK_SRC_PRE_SCALE, ci, "pre_scale", msg, msgsz)) ||
        (s = check_vec(g, n, MVK_SRC_PRE_SHIFT, ci, "pre_shift", msg, msgsz)) ||
        (s = check_vec(g, n, MVK_SRC_PRE_PARAM, ci, "pre_param", msg, msgsz)) ||
        (s = check_vec(g, n, MVK_SRC_ACT_PARAM, co, "act_param", msg, msgsz)))
        return s;
    if (act_needs_param(p->pre_act) && n->src[MVK_SRC_PRE_PARAM] < 0)
        return snprintf(msg, msgsz, "pre_act %s needs pre_param (slot %d)",
                        mvk_act_str(p->pre_act), MVK_SRC_PRE_PARAM),
               MVK_ERR_INVALID_ARG;
    if (act_needs_param(p->act) && n->src[MVK_SRC_ACT_PARAM] < 0)
        return snprintf(msg, msgsz, "act %s needs act_param (slot %d)", mvk_act_str(p->act),
                        MVK_SRC_ACT_PARAM),
               MVK_ERR_INVALID_ARG;
    const mvk_tensor *res = mvk_graph_tensor(g, n->src[MVK_SRC_RESIDUAL]);
    if (res && (res->ndim != 4 || memcmp(res->ne, ne, 4 * sizeof *ne)))
        return snprintf(msg, msgsz, "residual %s must be (%lld, %lld, %lld, %lld)", res->name,
                        (long long)ne[0], (long long)ne[1], (long long)ne[2], (long long)ne[3]),
               MVK_ERR_SHAPE;
    return MVK_OK;
}

mvk_conv_desc mvk_conv_desc_of(const mvk_graph *g, const mvk_node *n) {
    const mvk_tensor *x = mvk_graph_tensor(g, n->src[MVK_SRC_X]);
    const mvk_tensor *w = mvk_graph_tensor(g, n->src[MVK_SRC_W]);
    const mvk_tensor *y = mvk_graph_tensor(g, n->dst);
    mvk_conv_desc d = {
        .n = x->ne[0], .ci = x->ne[1], .h = x->ne[2], .w = x->ne[3],
        .co = w->ne[0], .kh = (int)w->ne[2], .kw = (int)w->ne[3],
        .stride = n->p.stride, .pad = n->p.pad,
        .pre_act = n->p.pre_act, .act = n->p.act, .scale = n->p.scale,
        .dst = n->dst,
    };
    if (y) {
        d.ho = y->ne[2];
        d.wo = y->ne[3];
    } else { /* called before the output exists (flops of a node being added) */
        d.ho = (d.h + 2 * d.pad - d.kh) / d.stride + 1;
        d.wo = (d.w + 2 * d.pad - d.kw) / d.stride + 1;
    }
    memcpy(d.src, n->src, sizeof d.src);
    return d;
}

/* ---- prologue vectors ------------------------------------------------------------------------ */

/* The prologue vectors the kernel reads (pre_param only when the activation uses it). */
static int pre_slots(const mvk_conv_desc *d, int slots[3]) {
    int k = 0;
    if (d->src[MVK_SRC_PRE_SCALE] >= 0) slots[k++] = MVK_SRC_PRE_SCALE;
    if (d->src[MVK_SRC_PRE_SHIFT] >= 0) slots[k++] = MVK_SRC_PRE_SHIFT;
    if (act_needs_param(d->pre_act) && d->src[MVK_SRC_PRE_PARAM] >= 0)
        slots[k++] = MVK_SRC_PRE_PARAM;
    return k;
}

/* Binds the prologue vectors as one range: the tensor itself when there is one, a span of their
 * common buffer when they share one, else a packed copy in the workspace. off[] gets each
 * vector's element offset (by slot - MVK_SRC_PRE_SCALE). */
static mvk_status bind_pre(mvk_rec *r, const mvk_conv_desc *d, mvk_binding *out, uint32_t off[3]) {
    mvk_ctx *ctx = mvk_rec_ctx(r);
    int slots[3];
    int k = pre_slots(d, slots);
    off[0] = off[1] = off[2] = 0;
    *out = (mvk_binding){0};
    if (k == 0) return MVK_OK;
    mvk_binding b[3] = {{0}};
    for (int i = 0; i < k; i++) b[i] = mvk_rec_tensor(r, d->src[slots[i]]);
    if (k == 1) {
        *out = b[0];
        return MVK_OK;
    }
    uint64_t lo = b[0].offset, hi = b[0].offset + b[0].range;
    bool same = true;
    for (int i = 1; i < k; i++) {
        same = same && b[i].buffer == b[0].buffer;
        lo = MVK_MIN(lo, b[i].offset);
        hi = MVK_MAX(hi, b[i].offset + b[i].range);
    }
    if (same && hi - lo <= ctx->info.max_storage_buffer_range && (hi - lo) / 4 < UINT32_MAX) {
        *out = (mvk_binding){b[0].buffer, lo, hi - lo};
        for (int i = 0; i < k; i++) off[slots[i] - MVK_SRC_PRE_SCALE] = (uint32_t)((b[i].offset - lo) / 4);
        return MVK_OK;
    }
    /* Pack: transfer copies into the workspace, ordered after earlier dispatches and before ours. */
    mvk_binding ws = mvk_rec_workspace(r);
    VkCommandBuffer cb = mvk_rec_cmd(r);
    VkMemoryBarrier mb = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
        .srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
        .dstAccessMask = VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_TRANSFER_WRITE_BIT |
                         VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT,
    };
    VkPipelineStageFlags st = VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT;
    vkCmdPipelineBarrier(cb, st, st, 0, 1, &mb, 0, NULL, 0, NULL);
    for (int i = 0; i < k; i++) {
        VkBufferCopy c = {b[i].offset, ws.offset + (uint64_t)i * d->ci * 4, (uint64_t)d->ci * 4};
        vkCmdCopyBuffer(cb, b[i].buffer, ws.buffer, 1, &c);
        off[slots[i] - MVK_SRC_PRE_SCALE] = (uint32_t)(i * d->ci);
    }
    mvk_rec_barrier(r);
    *out = (mvk_binding){ws.buffer, ws.offset, 3 * (uint64_t)d->ci * 4};
    mvk_log_once(ctx, "conv2d.prepack", "conv2d: prologue vectors in different buffers are "
                 "copied into one before each run (keep them in one buffer to avoid it)");
    return MVK_OK;
}

/* ---- kernel configuration --------------------------------------------------------------------- */

enum { SPEC_COMMON = 17, SPEC_MAX = 31 };

/* Spec constants 3..16, shared by both kernels. `flat` views a 1x1/stride-1/no-padding conv
 * over flattened pixels (H*W in one row). */
static void common_spec(const mvk_conv_desc *d, bool flat, uint32_t spec[SPEC_COMMON]) {
    uint32_t pre = (d->src[MVK_SRC_PRE_SCALE] >= 0 ? 1u : 0u) |
                   (d->src[MVK_SRC_PRE_SHIFT] >= 0 ? 2u : 0u) |
                   (act_needs_param(d->pre_act) && d->src[MVK_SRC_PRE_PARAM] >= 0 ? 4u : 0u);
    uint32_t epi = (d->src[MVK_SRC_BIAS] >= 0 ? 1u : 0u) |
                   (act_needs_param(d->act) && d->src[MVK_SRC_ACT_PARAM] >= 0 ? 2u : 0u) |
                   (d->src[MVK_SRC_RESIDUAL] >= 0 ? 4u : 0u);
    spec[3] = (uint32_t)d->ci;
    spec[4] = flat ? 1 : (uint32_t)d->h;
    spec[5] = flat ? (uint32_t)(d->h * d->w) : (uint32_t)d->w;
    spec[6] = (uint32_t)d->co;
    spec[7] = flat ? 1 : (uint32_t)d->ho;
    spec[8] = flat ? (uint32_t)(d->ho * d->wo) : (uint32_t)d->wo;
    spec[9] = (uint32_t)d->kh;
    spec[10] = (uint32_t)d->kw;
    spec[11] = (uint32_t)d->stride;
    spec[12] = (uint32_t)d->pad;
    spec[13] = pre;
    spec[14] = (uint32_t)d->pre_act;
    spec[15] = epi;
    spec[16] = (uint32_t)d->act;
}

typedef struct cpu_cfg {
    uint32_t tm, pr, pc;     /* block: channels x rows x columns */
    uint32_t pv, icv, wv;    /* floats per input load, input loads per row, floats per weight load */
    uint32_t staged;         /* 1: conv2d_pack stages the input; 0: x is read directly */
    uint32_t fastx, fastk;   /* vector loads in conv2d_pack / conv2d_wpack */
    uint32_t wp, hp, segx;   /* input rows: pitch, rows per plane; column blocks per row */
    uint32_t cop;            /* row pitch of the transposed weights */
    uint32_t khs;            /* kernel rows per step (1 or kh) */
    uint32_t carry;          /* input rows carried across ky steps (stride 1, pr > 1) */
    uint32_t ciu;            /* 1x1: input channels per step */
    uint32_t vst;            /* outputs per store */
    uint32_t wg;
    bool i64;
} cpu_cfg;

static bool has_prologue(const mvk_conv_desc *d) {
    int slots[3];
    return pre_slots(d, slots) > 0 || d->pre_act != MVK_ACT_NONE;
}

static uint32_t round_up32(uint64_t v, uint64_t a) { return (uint32_t)((v + a - 1) / a * a); }

/* Fills the geometry of block (tm, pr, pc) and returns its estimated cost in cycles per image
 * (per-lane loads ~40 cycles each, an 8-wide FMA ~1.5 cycles, see conv2d_cpu.comp; calibrated
 * on the WideResNet shapes with lavapipe 22.3), or -1 if it does not fit the private-array
 * budget. */
static double cpu_try(const mvk_conv_desc *d, cpu_cfg *c, uint32_t tm, uint32_t pr, uint32_t pc) {
    uint32_t s = (uint32_t)d->stride, kw = (uint32_t)d->kw;
    uint32_t segx = (uint32_t)MVK_CEIL_DIV(c->staged ? d->wo : d->h * d->w, pc);
    /* Column blocks start on a vector boundary of the input rows. */
    if (segx > 1 && (pc * s) % c->pv) return -1;
    uint32_t iw = (pc - 1) * s + kw;
    uint32_t icv = (uint32_t)MVK_CEIL_DIV(iw, c->pv);
    uint32_t wv = c->i64 && tm % 8 == 0 ? 8 : 4;
    uint64_t acc = (uint64_t)tm * pr * pc, body = acc * kw;
    uint32_t rr = (pr - 1) * s + 1; /* window rows (one kernel row per step) */
    uint64_t priv = acc + (uint64_t)rr * icv * c->pv + (uint64_t)kw * tm;
    if (acc > 256 || body > 1024 || priv > 400) return -1;
    /* Per image: the choice must not depend on the batch (a push constant, so that pipelines
     * are shared across batch sizes). */
    double lanes = (double)MVK_CEIL_DIV(d->co, tm) * (double)MVK_CEIL_DIV(c->staged ? d->ho : 1, pr) *
                   segx;
    double steps = (double)d->ci * d->kh;
    /* Stride 1 carries the window over ky: one new row per step, rr - 1 more per channel. */
    c->carry = s == 1 && pr > 1 && d->kh > 1;
    double rows = c->carry ? 1.0 + (double)(rr - 1) / d->kh : rr;
    double per_step = 40.0 * (rows * icv + (double)kw * tm / wv) + 1.5 / 8 * body + 10 +
                      (c->carry ? 0.4 * (rr - 1) * icv * c->pv : 0);
    c->tm = tm;
    c->pr = pr;
    c->pc = pc;
    c->icv = icv;
    c->wv = wv;
    c->segx = segx;
    /* Too few SIMD groups (per image) leave a core idle. */
    double groups = lanes / 8;
    double run = lanes * steps * per_step * (groups < 8 ? 8 / groups : 1);
    /* llvmpipe JIT-compiles a pipeline at its first dispatch, ~3.5 ms per unrolled FMA of the
     * body: charged as if spread over 500 runs of 8 images, so that small convs (tests) get
     * small bodies while the large ones are chosen for speed. */
    return run + (double)body * 3.5e-3 * 4.6e9 / 4000;
}

/* Blocking for the CPU kernel: the cheapest candidate by the cost model. */
static cpu_cfg cpu_config(mvk_ctx *ctx, const mvk_conv_desc *d) {
    cpu_cfg c = {.wg = 32};
    int64_t hw = d->h * d->w, k = d->ci * d->kh * d->kw;
    c.i64 = ctx->shader_int64;
    if (!c.i64)
        mvk_log_once(ctx, "conv2d.cpu.i64", "conv2d: the device has no shaderInt64: 4-float loads "
                     "instead of 8 (slower path)");
    c.staged = !(d->kh == 1 && d->kw == 1 && d->stride == 1 && d->pad == 0 && !has_prologue(d) &&
                 hw % 4 == 0);
    c.pv = c.i64 && (c.staged || hw % 8 == 0) ? 8 : 4;
    c.fastk = k % 4 == 0;
    if (c.staged) {
        c.fastx = d->w % 4 == 0 && d->pad <= 4;
        if (!c.fastx)
            mvk_log_once(ctx, "conv2d.cpu.w", "conv2d: input width %lld not a multiple of 4 (or "
                         "padding > 4): scalar loads when staging the input (slower path)",
                         (long long)d->w);
    }
    if (!c.fastk)
        mvk_log_once(ctx, "conv2d.cpu.k", "conv2d: Ci*kh*kw = %lld is not a multiple of 4: scalar "
                     "loads when transposing the weights (slower path)", (long long)k);
    static const uint32_t tms[] = {4, 8, 16, 32};
    double best = -1;
    cpu_cfg bc = c;
    uint32_t wo = c.staged ? (uint32_t)d->wo : (uint32_t)hw;
    for (size_t i = 0; i < MVK_ARRAY_LEN(tms); i++) {
        uint32_t tm = tms[i];
        if (tm > 4 && (uint64_t)tm / 2 >= (uint64_t)d->co) continue;
        for (uint32_t pr = 1; pr <= (c.staged ? 8u : 1u); pr++)
            for (uint32_t i4 = 1; i4 <= 17; i4++) {
                uint32_t pc = i4 < 17 ? 4 * i4 : wo; /* multiples of 4, or one block per row */
                if (pc > 64 || (pc > wo && pc != round_up32(wo, 4))) continue;
                cpu_cfg t = c;
                double cost = cpu_try(d, &t, tm, pr, pc);
                if (cost >= 0 && (best < 0 || cost < best)) {
                    best = cost;
                    bc = t;
                }
            }
    }
    if (best < 0) { /* nothing fits (huge kernels): the smallest block */
        bc = c;
        bc.tm = 4;
        bc.pr = 1;
        bc.pc = c.pv;
        bc.wv = 4;
        bc.icv = (uint32_t)MVK_CEIL_DIV((c.pv - 1) * d->stride + d->kw, c.pv);
        bc.segx = (uint32_t)MVK_CEIL_DIV(wo, bc.pc);
    }
    c = bc;
    c.khs = 1;
    /* A 1x1 step does one FMA per accumulator; several channels per step amortise the
     * loop-carried accumulator traffic (llvmpipe blends each one with the loop mask). */
    c.ciu = 1;
    if (d->kh == 1 && d->kw == 1)
        for (uint32_t u = 4; u > 1 && c.ciu == 1; u /= 2)
            if (d->ci % u == 0 && (uint64_t)c.tm * c.pr * c.pc * u <= 1024) c.ciu = u;
    /* Outputs per store: the widest that divides the block and the (flattened) output row. */
    uint32_t row = c.staged ? (uint32_t)d->wo : (uint32_t)hw;
    c.vst = 1;
    for (uint32_t v = c.i64 ? 8 : 4; v > 1 && c.vst == 1; v /= 2)
        if ((c.i64 || v == 4) && c.pc % v == 0 && row % v == 0) c.vst = v;
    /* Development override: MIMOVK_CONV_CPU="tm,pr,pc,khs". */
    const char *e = getenv("MIMOVK_CONV_CPU");
    unsigned tm, pr, pcc, khs;
    if (e && sscanf(e, "%u,%u,%u,%u", &tm, &pr, &pcc, &khs) == 4 && tm % 4 == 0 && tm && pr && pcc) {
        cpu_cfg t = c;
        if (cpu_try(d, &t, tm, c.staged ? pr : 1, pcc) >= 0) c = t;
        c.khs = khs > 1 ? (uint32_t)d->kh : 1;
        if (c.khs > 1) c.carry = 0;
    }
    /* Weight rows hold whole channel blocks: the last block's loads stay in its row. */
    c.cop = round_up32((uint64_t)d->co, c.tm > 8 ? c.tm : 8);
    if (c.staged) {
        c.hp = (uint32_t)((MVK_CEIL_DIV(d->ho, c.pr) * c.pr - 1) * d->stride + d->kh);
        c.wp = round_up32((uint64_t)(c.segx - 1) * c.pc * d->stride + c.icv * c.pv, 8);
    } else {
        c.hp = 1;
        c.wp = (uint32_t)hw;
    }
    return c;
}

/* Workspace: [packed prologue vectors][staged input][transposed weights], each aligned. */
static uint64_t align_bytes(const mvk_ctx *ctx, uint64_t v) {
    uint64_t a = mvk_buffer_alignment(ctx);
    return (v + a - 1) / a * a;
}

static uint64_t pre_pack_bytes(const mvk_ctx *ctx, const mvk_conv_desc *d) {
    int slots[3];
    return pre_slots(d, slots) >= 2 ? align_bytes(ctx, 3 * (uint64_t)d->ci * 4) : 0;
}

static uint64_t staging_bytes(const mvk_ctx *ctx, const mvk_conv_desc *d, const cpu_cfg *c) {
    return c->staged ? align_bytes(ctx, (uint64_t)d->n * d->ci * c->hp * c->wp * 4) : 0;
}

static uint64_t wt_bytes(const mvk_conv_desc *d, const cpu_cfg *c) {
    return (uint64_t)d->ci * d->kh * d->kw * c->cop * 4;
}

typedef struct gpu_cfg {
    uint32_t bm, bn, bk, tm, tn;
} gpu_cfg;

/* Shared-memory tiles for the GPU kernel: the largest that fit the device's workgroup and
 * shared-memory limits. */
static gpu_cfg gpu_config(const mvk_ctx *ctx) {
    static const gpu_cfg cands[] = {{64, 64, 16, 4, 4}, {32, 32, 16, 4, 4}, {16, 16, 16, 4, 4}};
    for (size_t i = 0; i < MVK_ARRAY_LEN(cands); i++) {
        gpu_cfg c = cands[i];
        uint32_t threads = (c.bm / c.tm) * (c.bn / c.tn);
        uint64_t shared = (uint64_t)(c.bm + c.bn) * c.bk * 4;
        if (threads <= ctx->info.max_workgroup_invocations &&
            threads <= ctx->info.max_workgroup_size[0] && shared <= ctx->info.max_shared_memory)
            return c;
    }
    return cands[MVK_ARRAY_LEN(cands) - 1]; /* 16 threads, 2 KiB: below every spec minimum */
}

uint64_t mvk_conv_workspace(mvk_ctx *ctx, const mvk_conv_desc *d) {
    if (ctx->kernels != MVK_KERNELS_CPU) return pre_pack_bytes(ctx, d);
    cpu_cfg c = cpu_config(ctx, d);
    return pre_pack_bytes(ctx, d) + staging_bytes(ctx, d, &c) + wt_bytes(d, &c);
}

static uint64_t workspace(const mvk_graph *g, const mvk_node *n) {
    mvk_conv_desc d = mvk_conv_desc_of(g, n);
    return mvk_conv_workspace(g->ctx, &d);
}

/* ---- record --------------------------------------------------------------------------------- */

mvk_status mvk_conv_record(mvk_rec *r, const mvk_conv_desc *d) {
    mvk_ctx *ctx = mvk_rec_ctx(r);
    mvk_binding b[7] = {
        mvk_rec_tensor(r, d->src[MVK_SRC_X]),
        mvk_rec_tensor(r, d->src[MVK_SRC_W]),
        mvk_rec_tensor(r, d->dst),
    };
    if (d->src[MVK_SRC_RESIDUAL] >= 0) b[3] = mvk_rec_tensor(r, d->src[MVK_SRC_RESIDUAL]);
    if (d->src[MVK_SRC_BIAS] >= 0) b[4] = mvk_rec_tensor(r, d->src[MVK_SRC_BIAS]);
    if (act_needs_param(d->act) && d->src[MVK_SRC_ACT_PARAM] >= 0)
        b[5] = mvk_rec_tensor(r, d->src[MVK_SRC_ACT_PARAM]);
    struct {
        uint32_t n;
        float scale;
        uint32_t pre_off[3];
    } push = {(uint32_t)d->n, d->scale, {0, 0, 0}};
    MVK_TRY(bind_pre(r, d, &b[6], push.pre_off));

    uint32_t spec[SPEC_MAX] = {0};
    uint32_t gx, gy;
    if (ctx->kernels == MVK_KERNELS_CPU) {
        cpu_cfg c = cpu_config(ctx, d);
        mvk_log(ctx, MVK_LOG_DEBUG,
                "conv2d cpu: %lldx%lldx%lldx%lld -> %lld, k%dx%d s%d p%d: block %ux%ux%u, "
                "loads %u x %u floats per row, %u floats per weight load, %s input, pitch %u",
                (long long)d->n, (long long)d->ci, (long long)d->h, (long long)d->w,
                (long long)d->co, d->kh, d->kw, d->stride, d->pad, c.tm, c.pr, c.pc, c.icv, c.pv,
                c.wv, c.staged ? "staged" : "direct", c.wp);
        mvk_binding ws = mvk_rec_workspace(r);
        uint64_t off = pre_pack_bytes(ctx, d);
        mvk_binding xp = {ws.buffer, ws.offset + off, staging_bytes(ctx, d, &c)};
        mvk_binding wt = {ws.buffer, xp.offset + xp.range, wt_bytes(d, &c)};
        /* Transpose the weights to (K, COP). */
        mvk_binding wb[3] = {{0}, b[1], wt};
        memset(spec, 0, sizeof spec); /* only CI, CO, KH, KW matter to the transpose */
        spec[3] = (uint32_t)d->ci;
        spec[6] = (uint32_t)d->co;
        spec[9] = (uint32_t)d->kh;
        spec[10] = (uint32_t)d->kw;
        spec[4] = spec[5] = spec[7] = spec[8] = spec[11] = 1;
        spec[0] = 64;
        spec[1] = spec[2] = 1;
        spec[17] = c.cop;
        uint64_t k = (uint64_t)d->ci * d->kh * d->kw;
        bool w8 = c.i64 && k % 8 == 0; /* 8 x 8 blocks of u64vec4 loads and stores */
        spec[18] = w8 ? 0 : c.fastk;
        uint64_t blocks = w8 ? k / 8 * (c.cop / 8) : MVK_CEIL_DIV(k, 4) * (c.cop / 4);
        mvk_split_groups(ctx, MVK_CEIL_DIV(blocks, 64), &gx, &gy);
        MVK_TRY(mvk_rec_dispatch(r, w8 ? MVK_SHADER_conv2d_wpack8 : MVK_SHADER_conv2d_wpack, spec,
                                 19, wb, 3, &push, sizeof push, gx, gy, 1));
        if (c.staged) {
            /* Stage the activated, zero-padded input. */
            mvk_binding pb[7] = {b[0], {0}, xp, {0}, {0}, {0}, b[6]};
            memset(spec, 0, sizeof spec);
            common_spec(d, false, spec);
            spec[6] = spec[7] = spec[8] = spec[9] = spec[10] = spec[11] = 1; /* unused here */
            spec[15] = spec[16] = 0;
            spec[0] = 64;
            spec[1] = spec[2] = 1;
            spec[17] = c.wp;
            spec[18] = c.hp;
            spec[19] = c.fastx;
            mvk_split_groups(ctx, MVK_CEIL_DIV((uint64_t)d->n * d->ci * c.hp * (c.wp / 8), 64), &gx,
                             &gy);
            MVK_TRY(mvk_rec_dispatch(r, MVK_SHADER_conv2d_pack, spec, 20, pb, 7, &push, sizeof push,
                                     gx, gy, 1));
            b[0] = xp;
        }
        b[1] = wt;
        b[6] = (mvk_binding){0};
        memset(spec, 0, sizeof spec);
        common_spec(d, !c.staged, spec);
        /* The main kernel reads staged data: no prologue; H, W, pad are folded into it. */
        spec[4] = spec[5] = 1;
        spec[12] = spec[13] = spec[14] = 0;
        spec[0] = c.wg;
        spec[1] = spec[2] = 1;
        spec[17] = c.tm;
        spec[18] = c.pr;
        spec[19] = c.pc;
        spec[20] = c.pv;
        spec[21] = c.icv;
        spec[22] = c.wv;
        spec[23] = c.wp;
        spec[24] = c.hp * c.wp;
        spec[25] = c.cop;
        spec[26] = c.segx;
        spec[27] = c.khs;
        spec[28] = c.carry;
        spec[29] = c.ciu;
        spec[30] = c.vst;
        uint64_t rows = c.staged ? (uint64_t)MVK_CEIL_DIV(d->ho, c.pr) : 1;
        uint64_t inv = (uint64_t)MVK_CEIL_DIV(d->co, c.tm) * d->n * rows * c.segx;
        mvk_split_groups(ctx, MVK_CEIL_DIV(inv, c.wg), &gx, &gy);
        return mvk_rec_dispatch(r, c.i64 ? MVK_SHADER_conv2d_cpu_i64 : MVK_SHADER_conv2d_cpu, spec,
                                31, b, 7, &push, sizeof push, gx, gy, 1);
    }
    gpu_cfg c = gpu_config(ctx);
    common_spec(d, false, spec);
    spec[0] = (c.bm / c.tm) * (c.bn / c.tn);
    spec[1] = spec[2] = 1;
    spec[17] = c.bm;
    spec[18] = c.bn;
    spec[19] = c.bk;
    spec[20] = c.tm;
    spec[21] = c.tn;
    uint64_t groups = (uint64_t)MVK_CEIL_DIV(d->co, c.bm) *
                      MVK_CEIL_DIV((uint64_t)d->n * d->ho * d->wo, c.bn);
    mvk_split_groups(ctx, groups, &gx, &gy);
    return mvk_rec_dispatch(r, MVK_SHADER_conv2d_gpu, spec, 22, b, 7, &push, sizeof push, gx, gy, 1);
}

static mvk_status record(mvk_rec *r, const mvk_node *n) {
    mvk_conv_desc d = mvk_conv_desc_of(mvk_rec_graph(r), n);
    return mvk_conv_record(r, &d);
}

/* ---- reference ------------------------------------------------------------------------------ */

void mvk_conv_ref(const mvk_conv_desc *d, const float *const src[MVK_MAX_SRC], float *dst) {
    const float *x = src[MVK_SRC_X], *w = src[MVK_SRC_W], *bias = src[MVK_SRC_BIAS];
    const float *ps = src[MVK_SRC_PRE_SCALE], *pt = src[MVK_SRC_PRE_SHIFT];
    const float *pp = src[MVK_SRC_PRE_PARAM], *ap = src[MVK_SRC_ACT_PARAM];
    const float *res = src[MVK_SRC_RESIDUAL];
    int64_t hw = d->h * d->w, ohw = d->ho * d->wo, kk = (int64_t)d->kh * d->kw;
    /* The activated input (PyTorch pads this tensor, so padding stays zero). */
    float *u = malloc((size_t)(d->n * d->ci * hw) * sizeof *u);
    if (!u) return;
    for (int64_t n = 0; n < d->n; n++)
        for (int64_t c = 0; c < d->ci; c++)
            for (int64_t i = 0; i < hw; i++) {
                float v = x[(n * d->ci + c) * hw + i];
                if (ps) v *= ps[c];
                if (pt) v += pt[c];
                u[(n * d->ci + c) * hw + i] = mvk_act_apply(d->pre_act, v, pp ? pp[c] : 0.0f);
            }
    for (int64_t n = 0; n < d->n; n++)
        for (int64_t o = 0; o < d->co; o++)
            for (int64_t oy = 0; oy < d->ho; oy++)
                for (int64_t ox = 0; ox < d->wo; ox++) {
                    double s = 0;
                    for (int64_t c = 0; c < d->ci; c++)
                        for (int ky = 0; ky < d->kh; ky++) {
                            int64_t iy = oy * d->stride + ky - d->pad;
                            if (iy < 0 || iy >= d->h) continue;
                            for (int kx = 0; kx < d->kw; kx++) {
                                int64_t ix = ox * d->stride + kx - d->pad;
                                if (ix < 0 || ix >= d->w) continue;
                                s += (double)w[(o * d->ci + c) * kk + ky * d->kw + kx] *
                                     u[(n * d->ci + c) * hw + iy * d->w + ix];
                            }
                        }
                    float v = (float)s + (bias ? bias[o] : 0.0f);
                    v = mvk_act_apply(d->act, v, ap ? ap[o] : 0.0f);
                    int64_t i = (n * d->co + o) * ohw + oy * d->wo + ox;
                    dst[i] = res ? d->scale * v + res[i] : v;
                }
    free(u);
}

static void ref(const mvk_node *n, const mvk_host_tensor *src, float *dst, const int64_t *dst_ne) {
    mvk_conv_desc d = {
        .n = src[MVK_SRC_X].ne[0], .ci = src[MVK_SRC_X].ne[1], .h = src[MVK_SRC_X].ne[2],
        .w = src[MVK_SRC_X].ne[3], .co = dst_ne[1], .ho = dst_ne[2], .wo = dst_ne[3],
        .kh = (int)src[MVK_SRC_W].ne[2], .kw = (int)src[MVK_SRC_W].ne[3],
        .stride = n->p.stride, .pad = n->p.pad, .pre_act = n->p.pre_act, .act = n->p.act,
        .scale = n->p.scale,
    };
    const float *s[MVK_MAX_SRC];
    for (int i = 0; i < MVK_MAX_SRC; i++) s[i] = src[i].data;
    mvk_conv_ref(&d, s, dst);
}

double mvk_conv_flops(const mvk_conv_desc *d) {
    return 2.0 * (double)d->n * (double)d->co * (double)d->ho * (double)d->wo * (double)d->ci *
           d->kh * d->kw;
}

static double flops(const mvk_graph *g, const mvk_node *n) {
    mvk_conv_desc d = mvk_conv_desc_of(g, n);
    return mvk_conv_flops(&d);
}

const mvk_op_impl mvk_op_conv2d = {"conv2d", shape, workspace, record, ref, flops};
