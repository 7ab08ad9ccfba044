/* TOPK over the last axis: (..., D) -> (..., k), the indices of the k largest values as floats
 * (exact for D <= 2^24), largest first, the lower index first on ties. */
#include "rows.h"

#include <stdio.h>
#include <string.h>

static mvk_status shape(const mvk_graph *g, const mvk_node *n, int *ndim, int64_t ne[4], char *msg,
                        size_t msgsz) {
    const mvk_tensor *x;
    mvk_status st = mvk_rows_x_only(g, n, "(..., D)", &x, msg, msgsz);
    if (st != MVK_OK) return st;
    int64_t d = x->ne[x->ndim - 1];
    if (n->p.k < 1) return snprintf(msg, msgsz, "k = %d must be >= 1", n->p.k), MVK_ERR_INVALID_ARG;
    if (n->p.k > d)
        return snprintf(msg, msgsz, "k = %d is larger than D = %lld (the last axis of x %s)", n->p.k,
                        (long long)d, x->name), MVK_ERR_SHAPE;
    if (d > (1 << 24))
        return snprintf(msg, msgsz, "D = %lld: indices above 2^24 are not exact as floats",
                        (long long)d), MVK_ERR_UNSUPPORTED;
    *ndim = x->ndim;
    memcpy(ne, x->ne, sizeof x->ne);
    ne[x->ndim - 1] = n->p.k;
    return MVK_OK;
}

static mvk_status record(mvk_rec *r, const mvk_node *n) {
    const mvk_tensor *x = mvk_graph_tensor(mvk_rec_graph(r), n->src[0]);
    uint64_t rows = (uint64_t)mvk_rows_outer(x), len = (uint64_t)x->ne[x->ndim - 1];
    mvk_binding b[2] = {mvk_rec_tensor(r, n->src[0]), mvk_rec_tensor(r, n->dst)};
    struct { uint32_t rows, len, k; } push = {(uint32_t)rows, (uint32_t)len, (uint32_t)n->p.k};
    return mvk_rows_dispatch(r, "topk", MVK_SHADER_topk_cpu, MVK_SHADER_topk_cpu4,
                             MVK_SHADER_topk_gpu, rows, len, (uint64_t)n->p.k, (uint64_t)n->p.k,
                             NULL, 0, b, 2, &push, sizeof push);
}

/* (a, i) comes before (b, j): larger value, then lower index. */
static bool before(float a, int64_t i, float b, int64_t j) { return a > b || (a == b && i < j); }

static void ref(const mvk_node *n, const mvk_host_tensor *src, float *dst, const int64_t *dst_ne) {
    (void)dst_ne;
    const mvk_host_tensor *x = &src[0];
    int64_t len = x->ne[x->ndim - 1], k = n->p.k, rows = 1;
    for (int i = 0; i + 1 < x->ndim; i++) rows *= x->ne[i];
    for (int64_t r = 0; r < rows; r++) {
        const float *xr = x->data + r * len;
        int64_t prev = -1;
        for (int64_t t = 0; t < k; t++) {
            int64_t best = -1;
            for (int64_t j = 0; j < len; j++) {
                if (prev >= 0 && !before(xr[prev], prev, xr[j], j)) continue;
                if (best < 0 || before(xr[j], j, xr[best], best)) best = j;
            }
            dst[r * k + t] = (float)best;
            prev = best;
        }
    }
}

const mvk_op_impl mvk_op_topk = {"topk", shape, NULL, record, ref, NULL};
