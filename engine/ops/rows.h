/* Shared by the ops that reduce along rows (GLOBAL_AVGPOOL, SOFTMAX, LAYERNORM, ARGMAX, TOPK):
 * kernel choice and one dispatch over `rows` rows of `len` elements.
 *   CPU class: one invocation per row, a plain loop; the "4" variant loads vec4 when len % 4 == 0.
 *   GPU class: one workgroup per row (power-of-two size <= 256) with shared-memory reductions.
 * Push constants start with {uint rows, len}.
 *
 * llvmpipe ends every loop of an invocation once 65535 iterations have run in total (its loop
 * limiter, shared by all loops of a shader), silently. So on CPU-type devices a row goes to the
 * one-invocation loop only while passes * len / 4 stays well below that, otherwise to the
 * workgroup-per-row kernel (len / 256 iterations per pass), and a row too long even for that is
 * refused with MVK_ERR_LIMIT rather than computed wrongly. */
#ifndef MVK_OPS_ROWS_H
#define MVK_OPS_ROWS_H

#include "internal.h"

#include <stdio.h>

/* Loop iterations one invocation may run on a CPU-type device: below llvmpipe's 65535, with
 * room for small loops the estimates leave out. */
#define MVK_LOOP_BUDGET 49152u

static inline uint32_t mvk_rows_pow2(uint64_t v, uint32_t cap) {
    uint32_t p = 1;
    while (p < v && p < cap) p *= 2;
    return p;
}

/* The check of the ops that read x alone: x in slot 0 (described by `what`), no other slot. */
static inline mvk_status mvk_rows_x_only(const mvk_graph *g, const mvk_node *n, const char *what,
                                         const mvk_tensor **x, char *msg, size_t msgsz) {
    *x = mvk_graph_tensor(g, n->src[0]);
    if (!*x) return snprintf(msg, msgsz, "needs x %s in slot 0", what), MVK_ERR_INVALID_ARG;
    for (int s = 1; s < MVK_MAX_SRC; s++)
        if (n->src[s] >= 0)
            return snprintf(msg, msgsz, "slot %d is not used (only x in slot 0)", s), MVK_ERR_INVALID_ARG;
    return MVK_OK;
}

/* Product of all dims but the last (the rows of a last-axis op). */
static inline int64_t mvk_rows_outer(const mvk_tensor *x) {
    int64_t r = 1;
    for (int i = 0; i + 1 < x->ndim; i++) r *= x->ne[i];
    return r;
}

/* passes: sweeps over the row per invocation (softmax 3, top-k k, ...); reductions: workgroup
 * reductions per row in the GPU kernel (each a log2(workgroup) loop). */
static inline mvk_status mvk_rows_dispatch(mvk_rec *r, const char *op, uint32_t shader_cpu,
                                           uint32_t shader_cpu4, uint32_t shader_gpu, uint64_t rows,
                                           uint64_t len, uint64_t passes, uint64_t reductions,
                                           const uint32_t *extra, uint32_t nextra,
                                           const mvk_binding *b, uint32_t nb, const void *push,
                                           uint32_t push_bytes) {
    const uint64_t loop_budget = MVK_LOOP_BUDGET;
    mvk_ctx *ctx = mvk_rec_ctx(r);
    bool cpu_device = ctx->info.type == MVK_DEVICE_CPU;
    uint32_t spec[MVK_MAX_SPEC] = {1, 1, 1};
    for (uint32_t i = 0; i < nextra && i + 3 < MVK_MAX_SPEC; i++) spec[3 + i] = extra[i];
    uint32_t shader, gx, gy;
    uint64_t vw = len % 4 == 0 ? 4 : 1;
    bool serial = ctx->kernels == MVK_KERNELS_CPU;
    if (serial && cpu_device && passes * (len / vw) > loop_budget) {
        serial = false;
        mvk_log_once(ctx, op, "%s: rows of %llu elements use the workgroup-per-row kernel (llvmpipe "
                     "caps loops at 65535 iterations per invocation)", op, (unsigned long long)len);
    }
    if (serial) {
        shader = vw == 4 ? shader_cpu4 : shader_cpu;
        if (vw == 1 && len >= 64) {
            char key[64];
            snprintf(key, sizeof key, "%s.scalar", op);
            mvk_log_once(ctx, key, "%s: rows of %llu elements (not a multiple of 4) use scalar "
                         "loads (slower)", op, (unsigned long long)len);
        }
        /* 8 rows (one llvmpipe SIMD row) per workgroup when there are enough rows to keep every
         * worker thread busy; else one row per workgroup. */
        spec[0] = rows >= 64 ? 8 : 1;
        mvk_split_groups(ctx, MVK_CEIL_DIV(rows, spec[0]), &gx, &gy);
    } else {
        shader = shader_gpu;
        uint32_t maxwg = MVK_MIN(ctx->info.max_workgroup_invocations, ctx->info.max_workgroup_size[0]);
        uint32_t cap = 1;
        while (cap * 2 <= MVK_MIN(maxwg, 256u)) cap *= 2;
        spec[0] = MVK_MAX(mvk_rows_pow2(len, cap), MVK_MIN(32u, cap));
        uint64_t iters = passes * MVK_CEIL_DIV(len, spec[0]) + reductions * 8;
        if (cpu_device && iters > loop_budget)
            return mvk_fail(ctx, MVK_ERR_LIMIT, "%s: rows of %llu elements need %llu loop iterations "
                            "per invocation, above what llvmpipe runs (65535)", op,
                            (unsigned long long)len, (unsigned long long)iters);
        mvk_split_groups(ctx, rows, &gx, &gy);
    }
    return mvk_rec_dispatch(r, shader, spec, 3 + nextra, b, nb, push, push_bytes, gx, gy, 1);
}

#endif
