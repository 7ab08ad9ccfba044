/* GROUP_MEAN: x (G, r*n*F) -> (G*n, F), out[g*n+i][f] = mean over p < r of x[g][(p*n+i)*F+f]
 * with n = params.n and r = params.groups (MIMOConv's unbinding: the mean over r replicas). */
#include "rows.h"

#include <stdio.h>

static mvk_status shape(const mvk_graph *g, const mvk_node *n, int *ndim, int64_t ne[4], char *msg,
                        size_t msgsz) {
    const mvk_tensor *x;
    mvk_status st = mvk_rows_x_only(g, n, "(G, r*n*F)", &x, msg, msgsz);
    if (st != MVK_OK) return st;
    if (n->p.n < 1 || n->p.groups < 1)
        return snprintf(msg, msgsz, "n = %d and groups (replicas r) = %d must be >= 1", n->p.n,
                        n->p.groups), MVK_ERR_INVALID_ARG;
    if (x->ndim < 2)
        return snprintf(msg, msgsz, "x %s has %d dimension; it must be (G, r*n*F)", x->name, x->ndim),
               MVK_ERR_SHAPE;
    int64_t per = mvk_tensor_numel(x) / x->ne[0], rn = (int64_t)n->p.n * n->p.groups;
    if (per % rn != 0)
        return snprintf(msg, msgsz, "x %s has %lld values per group (after dim 0), not a multiple of "
                        "groups * n = %d * %d = %lld", x->name, (long long)per, n->p.groups, n->p.n,
                        (long long)rn), MVK_ERR_SHAPE;
    *ndim = 2;
    ne[0] = x->ne[0] * n->p.n;
    ne[1] = per / rn;
    return MVK_OK;
}

static mvk_status record(mvk_rec *r, const mvk_node *n) {
    const mvk_graph *g = mvk_rec_graph(r);
    mvk_ctx *ctx = mvk_rec_ctx(r);
    const mvk_tensor *y = mvk_graph_tensor(g, n->dst);
    uint64_t count = (uint64_t)mvk_tensor_numel(y), f = (uint64_t)y->ne[1];
    if (ctx->info.type == MVK_DEVICE_CPU && (uint64_t)n->p.groups > MVK_LOOP_BUDGET)
        return mvk_fail(ctx, MVK_ERR_LIMIT, "group_mean: %d replicas is more than llvmpipe loops over "
                        "(65535 iterations)", n->p.groups);
    uint32_t vw = f % 4 == 0 ? 4 : 1, wg = 128;
    if (vw == 1)
        mvk_log_once(ctx, "group_mean.scalar", "group_mean: F = %llu is not a multiple of 4; using "
                     "scalar loads (slower)", (unsigned long long)f);
    mvk_binding b[2] = {mvk_rec_tensor(r, n->src[0]), mvk_rec_tensor(r, n->dst)};
    uint32_t spec[3] = {wg, 1, 1};
    struct { uint32_t count, f, n, r; } push = {(uint32_t)(count / vw), (uint32_t)(f / vw),
                                                (uint32_t)n->p.n, (uint32_t)n->p.groups};
    uint32_t gx, gy;
    mvk_split_groups(ctx, MVK_CEIL_DIV(count / vw, wg), &gx, &gy);
    return mvk_rec_dispatch(r, vw == 4 ? MVK_SHADER_group_mean4 : MVK_SHADER_group_mean, spec, 3, b,
                            2, &push, sizeof push, gx, gy, 1);
}

static void ref(const mvk_node *n, const mvk_host_tensor *src, float *dst, const int64_t *dst_ne) {
    int64_t gn = dst_ne[0], f = dst_ne[1], nn = n->p.n, r = n->p.groups;
    for (int64_t o = 0; o < gn; o++) {
        int64_t g = o / nn, i = o % nn;
        for (int64_t j = 0; j < f; j++) {
            double s = 0;
            for (int64_t p = 0; p < r; p++) s += src[0].data[g * r * nn * f + (p * nn + i) * f + j];
            dst[o * f + j] = (float)(s / (double)r);
        }
    }
}

static double flops(const mvk_graph *g, const mvk_node *n) {
    return (double)mvk_tensor_numel(mvk_graph_tensor(g, n->src[0]));
}

const mvk_op_impl mvk_op_group_mean = {"group_mean", shape, NULL, record, ref, flops};
