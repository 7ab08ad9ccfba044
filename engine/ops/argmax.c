/* ARGMAX over the last axis: (..., D) -> (..., 1), the index of the maximum as a float (exact
 * for D <= 2^24), the first maximum on ties. */
#include "rows.h"

#include <stdio.h>
#include <string.h>

static mvk_status shape(const mvk_graph *g, const mvk_node *n, int *ndim, int64_t ne[4], char *msg,
                        size_t msgsz) {
    const mvk_tensor *x;
    mvk_status st = mvk_rows_x_only(g, n, "(..., D)", &x, msg, msgsz);
    if (st != MVK_OK) return st;
    if (x->ne[x->ndim - 1] > (1 << 24))
        return snprintf(msg, msgsz, "D = %lld: indices above 2^24 are not exact as floats",
                        (long long)x->ne[x->ndim - 1]), MVK_ERR_UNSUPPORTED;
    *ndim = x->ndim;
    memcpy(ne, x->ne, sizeof x->ne);
    ne[x->ndim - 1] = 1;
    return MVK_OK;
}

static mvk_status record(mvk_rec *r, const mvk_node *n) {
    const mvk_tensor *x = mvk_graph_tensor(mvk_rec_graph(r), n->src[0]);
    uint64_t rows = (uint64_t)mvk_rows_outer(x), len = (uint64_t)x->ne[x->ndim - 1];
    mvk_binding b[2] = {mvk_rec_tensor(r, n->src[0]), mvk_rec_tensor(r, n->dst)};
    struct { uint32_t rows, len; } push = {(uint32_t)rows, (uint32_t)len};
    return mvk_rows_dispatch(r, "argmax", MVK_SHADER_argmax_cpu, MVK_SHADER_argmax_cpu4,
                             MVK_SHADER_argmax_gpu, rows, len, 1, 1, NULL, 0, b, 2, &push,
                             sizeof push);
}

static void ref(const mvk_node *n, const mvk_host_tensor *src, float *dst, const int64_t *dst_ne) {
    (void)n;
    const mvk_host_tensor *x = &src[0];
    int64_t len = x->ne[x->ndim - 1], rows = dst_ne[0] * dst_ne[1] * dst_ne[2] * dst_ne[3];
    for (int64_t r = 0; r < rows; r++) {
        const float *xr = x->data + r * len;
        int64_t best = 0;
        for (int64_t j = 1; j < len; j++)
            if (xr[j] > xr[best]) best = j;
        dst[r] = (float)best;
    }
}

const mvk_op_impl mvk_op_argmax = {"argmax", shape, NULL, record, ref, NULL};
