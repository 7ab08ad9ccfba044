/* ADD, MUL, SCALE: elementwise over tensors of one shape. */
#include "internal.h"

#include <stdio.h>
#include <string.h>

static mvk_status shape(const mvk_graph *g, const mvk_node *n, int *ndim, int64_t ne[4], char *msg,
                        size_t msgsz) {
    const mvk_tensor *a = mvk_graph_tensor(g, n->src[0]);
    if (!a) return snprintf(msg, msgsz, "needs an input in slot 0"), MVK_ERR_INVALID_ARG;
    if (n->op != MVK_OP_SCALE) {
        const mvk_tensor *b = mvk_graph_tensor(g, n->src[1]);
        if (!b) return snprintf(msg, msgsz, "needs a second input in slot 1"), MVK_ERR_INVALID_ARG;
        if (mvk_tensor_numel(a) != mvk_tensor_numel(b) || memcmp(a->ne, b->ne, sizeof a->ne))
            return snprintf(msg, msgsz, "inputs %s and %s differ in shape", a->name, b->name),
                   MVK_ERR_SHAPE;
    }
    *ndim = a->ndim;
    memcpy(ne, a->ne, sizeof a->ne);
    return MVK_OK;
}

static mvk_status record(mvk_rec *r, const mvk_node *n) {
    const mvk_graph *g = mvk_rec_graph(r);
    uint64_t count = (uint64_t)mvk_tensor_numel(mvk_graph_tensor(g, n->dst));
    const uint32_t wg = 128;
    uint32_t spec[3] = {wg, 1, 1};
    uint32_t gx, gy;
    mvk_split_groups(mvk_rec_ctx(r), MVK_CEIL_DIV(count, wg), &gx, &gy);
    struct { uint32_t n; float scale; } push = {(uint32_t)count, n->p.scale};
    mvk_binding b[3] = {mvk_rec_tensor(r, n->src[0]),
                        n->op == MVK_OP_SCALE ? mvk_rec_tensor(r, n->src[0]) : mvk_rec_tensor(r, n->src[1]),
                        mvk_rec_tensor(r, n->dst)};
    uint32_t shader = n->op == MVK_OP_ADD ? MVK_SHADER_eltwise_add
                    : n->op == MVK_OP_MUL ? MVK_SHADER_eltwise_mul
                                          : MVK_SHADER_eltwise_scale;
    return mvk_rec_dispatch(r, shader, spec, 3, b, 3, &push, sizeof push, gx, gy, 1);
}

static void ref(const mvk_node *n, const mvk_host_tensor *src, float *dst, const int64_t *dst_ne) {
    int64_t count = dst_ne[0] * dst_ne[1] * dst_ne[2] * dst_ne[3];
    for (int64_t i = 0; i < count; i++) {
        float a = src[0].data[i];
        dst[i] = n->op == MVK_OP_ADD ? a + src[1].data[i]
               : n->op == MVK_OP_MUL ? a * src[1].data[i]
                                     : n->p.scale * a;
    }
}

static double flops(const mvk_graph *g, const mvk_node *n) {
    return (double)mvk_tensor_numel(mvk_graph_tensor(g, n->dst));
}

const mvk_op_impl mvk_op_add = {"add", shape, NULL, record, ref, flops};
const mvk_op_impl mvk_op_mul = {"mul", shape, NULL, record, ref, flops};
const mvk_op_impl mvk_op_scale = {"scale", shape, NULL, record, ref, flops};
