/* SUPERPOSE: bundles groups of n inputs into one superposed sample per pixel,
 *   out[g][o][p] = sum_i sum_c a[o][i*C + c] * x[g*n + i][c][p],   x (B, C, H, W), a (C, n*C).
 * Reading x as (B/n, n*C, H, W) (the same memory) makes this a 1x1 convolution with Ci = n*C,
 * Co = C and weights a: it records the conv2d kernels with 1x1 shapes, no data movement. */
#include "conv2d.h"

#include <stdio.h>
#include <string.h>

static mvk_status shape(const mvk_graph *g, const mvk_node *n, int *ndim, int64_t ne[4], char *msg,
                        size_t msgsz) {
    const mvk_tensor *x = mvk_graph_tensor(g, n->src[0]);
    const mvk_tensor *a = mvk_graph_tensor(g, n->src[1]);
    if (!x || !a)
        return snprintf(msg, msgsz, "needs x (B, C, H, W) in slot 0 and a (C, n*C) in slot 1"),
               MVK_ERR_INVALID_ARG;
    for (int s = 2; s < MVK_MAX_SRC; s++)
        if (n->src[s] >= 0)
            return snprintf(msg, msgsz, "slot %d is not used by superpose (x 0, a 1)", s),
                   MVK_ERR_INVALID_ARG;
    int k = n->p.n;
    if (k < 1) return snprintf(msg, msgsz, "n = %d, must be >= 1", k), MVK_ERR_INVALID_ARG;
    if (x->ndim != 4)
        return snprintf(msg, msgsz, "x %s must be (B, C, H, W), has %d dimensions", x->name,
                        x->ndim),
               MVK_ERR_SHAPE;
    int64_t b = x->ne[0], c = x->ne[1];
    if (b % k)
        return snprintf(msg, msgsz, "batch B = %lld of x %s is not a multiple of n = %d",
                        (long long)b, x->name, k),
               MVK_ERR_SHAPE;
    if (a->ndim != 2 || a->ne[0] != c || a->ne[1] != k * c)
        return snprintf(msg, msgsz, "a %s must be (C, n*C) = (%lld, %lld)", a->name, (long long)c,
                        (long long)(k * c)),
               MVK_ERR_SHAPE;
    if (mvk_tensor_numel(x) >= (1ll << 32))
        return snprintf(msg, msgsz, "too large for 32-bit indexing"), MVK_ERR_LIMIT;
    *ndim = 4;
    ne[0] = b / k;
    ne[1] = c;
    ne[2] = x->ne[2];
    ne[3] = x->ne[3];
    return MVK_OK;
}

/* The 1x1 conv this op is. */
static mvk_conv_desc desc_of(const mvk_graph *g, const mvk_node *n) {
    const mvk_tensor *x = mvk_graph_tensor(g, n->src[0]);
    int64_t k = n->p.n;
    mvk_conv_desc d = {
        .n = x->ne[0] / k, .ci = k * x->ne[1], .h = x->ne[2], .w = x->ne[3],
        .co = x->ne[1], .ho = x->ne[2], .wo = x->ne[3],
        .kh = 1, .kw = 1, .stride = 1, .pad = 0,
        .pre_act = MVK_ACT_NONE, .act = MVK_ACT_NONE, .scale = 1.0f,
        .dst = n->dst,
    };
    for (int i = 0; i < MVK_MAX_SRC; i++) d.src[i] = -1;
    d.src[MVK_SRC_X] = n->src[0];
    d.src[MVK_SRC_W] = n->src[1];
    return d;
}

static uint64_t workspace(const mvk_graph *g, const mvk_node *n) {
    mvk_conv_desc d = desc_of(g, n);
    return mvk_conv_workspace(g->ctx, &d);
}

static mvk_status record(mvk_rec *r, const mvk_node *n) {
    mvk_conv_desc d = desc_of(mvk_rec_graph(r), n);
    return mvk_conv_record(r, &d);
}

/* Written from the definition (not through the conv reference) so the test checks the
 * reinterpretation too. */
static void ref(const mvk_node *n, const mvk_host_tensor *src, float *dst, const int64_t *dst_ne) {
    const float *x = src[0].data, *a = src[1].data;
    int64_t k = n->p.n, groups = dst_ne[0], c = dst_ne[1], hw = dst_ne[2] * dst_ne[3];
    for (int64_t g = 0; g < groups; g++)
        for (int64_t o = 0; o < c; o++)
            for (int64_t p = 0; p < hw; p++) {
                double s = 0;
                for (int64_t i = 0; i < k; i++)
                    for (int64_t ci = 0; ci < c; ci++)
                        s += (double)a[o * k * c + i * c + ci] * x[((g * k + i) * c + ci) * hw + p];
                dst[(g * c + o) * hw + p] = (float)s;
            }
}

static double flops(const mvk_graph *g, const mvk_node *n) {
    mvk_conv_desc d = desc_of(g, n);
    return mvk_conv_flops(&d);
}

const mvk_op_impl mvk_op_superpose = {"superpose", shape, workspace, record, ref, flops};
