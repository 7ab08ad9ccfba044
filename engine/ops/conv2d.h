/* The conv2d kernels as a building block: CONV2D records them directly, SUPERPOSE records a
 * 1x1 conv over a reinterpretation of its input (no data movement). */
#ifndef MVK_OPS_CONV2D_H
#define MVK_OPS_CONV2D_H

#include "internal.h"

typedef struct mvk_conv_desc {
    int64_t n, ci, h, w;        /* input (N, Ci, H, W) */
    int64_t co, ho, wo;         /* output (N, Co, Ho, Wo) */
    int kh, kw, stride, pad;
    mvk_act pre_act, act;
    float scale;                /* residual scale */
    /* Tensors; -1 when absent. src[] uses the MVK_SRC_* slots of CONV2D. */
    mvk_tensor_id src[MVK_MAX_SRC];
    mvk_tensor_id dst;
} mvk_conv_desc;

/* The descriptor of a CONV2D node (shapes already checked). */
mvk_conv_desc mvk_conv_desc_of(const mvk_graph *g, const mvk_node *n);
/* Scratch bytes the kernels need (packing of the prologue vectors). */
uint64_t mvk_conv_workspace(mvk_ctx *ctx, const mvk_conv_desc *d);
/* Records the conv on the context's kernel class. */
mvk_status mvk_conv_record(mvk_rec *r, const mvk_conv_desc *d);
/* Plain-C reference; src[] indexed by MVK_SRC_* (NULL when absent), double accumulation. */
void mvk_conv_ref(const mvk_conv_desc *d, const float *const src[MVK_MAX_SRC], float *dst);
double mvk_conv_flops(const mvk_conv_desc *d);

#endif
