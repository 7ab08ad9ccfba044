/* The op registry: one line per op, in the order of enum mvk_op. */
#include "internal.h"

extern const mvk_op_impl mvk_op_conv2d, mvk_op_affine_act, mvk_op_global_avgpool, mvk_op_linear,
    mvk_op_add, mvk_op_mul, mvk_op_scale, mvk_op_group_mean, mvk_op_softmax, mvk_op_layernorm,
    mvk_op_argmax, mvk_op_topk, mvk_op_superpose, mvk_op_hrr, mvk_op_bind;

static const mvk_op_impl *const registry[] = {
    [MVK_OP_CONV2D] = &mvk_op_conv2d,
    [MVK_OP_AFFINE_ACT] = &mvk_op_affine_act,
    [MVK_OP_GLOBAL_AVGPOOL] = &mvk_op_global_avgpool,
    [MVK_OP_LINEAR] = &mvk_op_linear,
    [MVK_OP_ADD] = &mvk_op_add,
    [MVK_OP_MUL] = &mvk_op_mul,
    [MVK_OP_SCALE] = &mvk_op_scale,
    [MVK_OP_GROUP_MEAN] = &mvk_op_group_mean,
    [MVK_OP_SOFTMAX] = &mvk_op_softmax,
    [MVK_OP_LAYERNORM] = &mvk_op_layernorm,
    [MVK_OP_ARGMAX] = &mvk_op_argmax,
    [MVK_OP_TOPK] = &mvk_op_topk,
    [MVK_OP_SUPERPOSE] = &mvk_op_superpose,
    [MVK_OP_HRR] = &mvk_op_hrr,
    [MVK_OP_BIND] = &mvk_op_bind,
};
_Static_assert(MVK_ARRAY_LEN(registry) == MVK_OP_COUNT, "one registry entry per op");

const mvk_op_impl *mvk_op_get(mvk_op op) {
    return (unsigned)op < MVK_OP_COUNT ? registry[op] : NULL;
}

const char *mvk_op_str(mvk_op op) {
    const mvk_op_impl *impl = mvk_op_get(op);
    return impl ? impl->name : "?";
}
