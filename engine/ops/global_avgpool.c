/* GLOBAL_AVGPOOL: (N, C, H, W) -> (N, C), the mean over H * W (also (N, C, L) -> (N, C)). */
#include "rows.h"

#include <stdio.h>

static mvk_status shape(const mvk_graph *g, const mvk_node *n, int *ndim, int64_t ne[4], char *msg,
                        size_t msgsz) {
    const mvk_tensor *x;
    mvk_status st = mvk_rows_x_only(g, n, "(N, C, H, W)", &x, msg, msgsz);
    if (st != MVK_OK) return st;
    if (x->ndim < 3)
        return snprintf(msg, msgsz, "x %s has %d dimensions; it must be (N, C, H, W) or (N, C, L)",
                        x->name, x->ndim), MVK_ERR_SHAPE;
    *ndim = 2;
    ne[0] = x->ne[0];
    ne[1] = x->ne[1];
    return MVK_OK;
}

static mvk_status record(mvk_rec *r, const mvk_node *n) {
    const mvk_graph *g = mvk_rec_graph(r);
    const mvk_tensor *x = mvk_graph_tensor(g, n->src[0]);
    uint64_t rows = (uint64_t)(x->ne[0] * x->ne[1]);
    uint64_t len = (uint64_t)mvk_tensor_numel(x) / rows;
    mvk_binding b[2] = {mvk_rec_tensor(r, n->src[0]), mvk_rec_tensor(r, n->dst)};
    struct { uint32_t rows, len; } push = {(uint32_t)rows, (uint32_t)len};
    return mvk_rows_dispatch(r, "global_avgpool", MVK_SHADER_global_avgpool_cpu,
                             MVK_SHADER_global_avgpool_cpu4, MVK_SHADER_global_avgpool_gpu, rows, len,
                             1, 1, NULL, 0, b, 2, &push, sizeof push);
}

static void ref(const mvk_node *n, const mvk_host_tensor *src, float *dst, const int64_t *dst_ne) {
    (void)n;
    const mvk_host_tensor *x = &src[0];
    int64_t rows = dst_ne[0] * dst_ne[1], len = 1;
    for (int i = 2; i < x->ndim; i++) len *= x->ne[i];
    for (int64_t r = 0; r < rows; r++) {
        double s = 0;
        for (int64_t j = 0; j < len; j++) s += x->data[r * len + j];
        dst[r] = (float)(s / (double)len);
    }
}

static double flops(const mvk_graph *g, const mvk_node *n) {
    return (double)mvk_tensor_numel(mvk_graph_tensor(g, n->src[0]));
}

const mvk_op_impl mvk_op_global_avgpool = {"global_avgpool", shape, NULL, record, ref, flops};
