/* SOFTMAX over the last axis of a tensor of any rank, numerically stable (max subtraction). */
#include "rows.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static mvk_status shape(const mvk_graph *g, const mvk_node *n, int *ndim, int64_t ne[4], char *msg,
                        size_t msgsz) {
    const mvk_tensor *x;
    mvk_status st = mvk_rows_x_only(g, n, "(..., D)", &x, msg, msgsz);
    if (st != MVK_OK) return st;
    *ndim = x->ndim;
    memcpy(ne, x->ne, sizeof x->ne);
    return MVK_OK;
}

static mvk_status record(mvk_rec *r, const mvk_node *n) {
    const mvk_tensor *x = mvk_graph_tensor(mvk_rec_graph(r), n->src[0]);
    uint64_t rows = (uint64_t)mvk_rows_outer(x), len = (uint64_t)x->ne[x->ndim - 1];
    mvk_binding b[2] = {mvk_rec_tensor(r, n->src[0]), mvk_rec_tensor(r, n->dst)};
    struct { uint32_t rows, len; } push = {(uint32_t)rows, (uint32_t)len};
    return mvk_rows_dispatch(r, "softmax", MVK_SHADER_softmax_cpu, MVK_SHADER_softmax_cpu4,
                             MVK_SHADER_softmax_gpu, rows, len, 3, 2, NULL, 0, b, 2, &push,
                             sizeof push);
}

static void ref(const mvk_node *n, const mvk_host_tensor *src, float *dst, const int64_t *dst_ne) {
    (void)n;
    const mvk_host_tensor *x = &src[0];
    int64_t len = x->ne[x->ndim - 1], rows = dst_ne[0] * dst_ne[1] * dst_ne[2] * dst_ne[3] / len;
    for (int64_t r = 0; r < rows; r++) {
        const float *xr = x->data + r * len;
        double m = -INFINITY, s = 0;
        for (int64_t j = 0; j < len; j++) m = xr[j] > m ? xr[j] : m;
        for (int64_t j = 0; j < len; j++) s += exp((double)xr[j] - m);
        for (int64_t j = 0; j < len; j++) dst[r * len + j] = (float)(exp((double)xr[j] - m) / s);
    }
}

static double flops(const mvk_graph *g, const mvk_node *n) {
    return 4.0 * (double)mvk_tensor_numel(mvk_graph_tensor(g, n->src[0]));
}

const mvk_op_impl mvk_op_softmax = {"softmax", shape, NULL, record, ref, flops};
