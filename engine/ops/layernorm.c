/* LAYERNORM over the last axis like torch.nn.LayerNorm: biased variance, eps from params,
 * gamma (D) in slot 1 and beta (D) in slot 2, both optional. */
#include "rows.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static mvk_status shape(const mvk_graph *g, const mvk_node *n, int *ndim, int64_t ne[4], char *msg,
                        size_t msgsz) {
    const mvk_tensor *x = mvk_graph_tensor(g, n->src[0]);
    if (!x) return snprintf(msg, msgsz, "needs x (..., D) in slot 0"), MVK_ERR_INVALID_ARG;
    for (int s = 3; s < MVK_MAX_SRC; s++)
        if (n->src[s] >= 0)
            return snprintf(msg, msgsz, "slot %d is not used (x 0, gamma 1, beta 2)", s),
                   MVK_ERR_INVALID_ARG;
    int64_t d = x->ne[x->ndim - 1];
    static const char *const names[] = {"x", "gamma", "beta"};
    for (int s = 1; s <= 2; s++) {
        const mvk_tensor *t = mvk_graph_tensor(g, n->src[s]);
        if (t && mvk_tensor_numel(t) != d)
            return snprintf(msg, msgsz, "%s %s has %lld elements, x %s has D = %lld (last axis)",
                            names[s], t->name, (long long)mvk_tensor_numel(t), x->name, (long long)d),
                   MVK_ERR_SHAPE;
    }
    if (!(n->p.eps >= 0.0f) || isinf(n->p.eps))
        return snprintf(msg, msgsz, "eps = %g must be finite and >= 0", (double)n->p.eps),
               MVK_ERR_INVALID_ARG;
    *ndim = x->ndim;
    memcpy(ne, x->ne, sizeof x->ne);
    return MVK_OK;
}

static mvk_status record(mvk_rec *r, const mvk_node *n) {
    const mvk_tensor *x = mvk_graph_tensor(mvk_rec_graph(r), n->src[0]);
    uint64_t rows = (uint64_t)mvk_rows_outer(x), len = (uint64_t)x->ne[x->ndim - 1];
    mvk_binding b[4] = {mvk_rec_tensor(r, n->src[0]), {0}, {0}, mvk_rec_tensor(r, n->dst)};
    if (n->src[1] >= 0) b[1] = mvk_rec_tensor(r, n->src[1]);
    if (n->src[2] >= 0) b[2] = mvk_rec_tensor(r, n->src[2]);
    uint32_t extra[2] = {n->src[1] >= 0, n->src[2] >= 0};
    struct { uint32_t rows, len; float eps; } push = {(uint32_t)rows, (uint32_t)len, n->p.eps};
    return mvk_rows_dispatch(r, "layernorm", MVK_SHADER_layernorm_cpu, MVK_SHADER_layernorm_cpu4,
                             MVK_SHADER_layernorm_gpu, rows, len, 3, 2, extra, 2, b, 4, &push,
                             sizeof push);
}

static void ref(const mvk_node *n, const mvk_host_tensor *src, float *dst, const int64_t *dst_ne) {
    const mvk_host_tensor *x = &src[0];
    const float *gamma = src[1].data, *beta = src[2].data;
    int64_t len = x->ne[x->ndim - 1], rows = dst_ne[0] * dst_ne[1] * dst_ne[2] * dst_ne[3] / len;
    for (int64_t r = 0; r < rows; r++) {
        const float *xr = x->data + r * len;
        double mean = 0, var = 0;
        for (int64_t j = 0; j < len; j++) mean += xr[j];
        mean /= (double)len;
        for (int64_t j = 0; j < len; j++) var += (xr[j] - mean) * (xr[j] - mean);
        var /= (double)len;
        double rstd = 1.0 / sqrt(var + (double)n->p.eps);
        for (int64_t j = 0; j < len; j++) {
            double v = (xr[j] - mean) * rstd;
            if (gamma) v *= gamma[j];
            if (beta) v += beta[j];
            dst[r * len + j] = (float)v;
        }
    }
}

static double flops(const mvk_graph *g, const mvk_node *n) {
    return 8.0 * (double)mvk_tensor_numel(mvk_graph_tensor(g, n->src[0]));
}

const mvk_op_impl mvk_op_layernorm = {"layernorm", shape, NULL, record, ref, flops};
