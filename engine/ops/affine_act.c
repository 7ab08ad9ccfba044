/* AFFINE_ACT: per-channel y = act(scale[c] x + shift[c]) over x (N, C, ...), channel = dim 1.
 * scale, shift and param are optional (absent: 1, 0, unused); prelu and srelu need param. */
#include "internal.h"

#include <stdio.h>
#include <string.h>

enum { SLOT_X = 0, SLOT_SCALE = 1, SLOT_SHIFT = 2, SLOT_PARAM = 3 };

static int64_t inner_of(const int64_t *ne, int ndim) {
    int64_t inner = 1;
    for (int i = 2; i < ndim; i++) inner *= ne[i];
    return inner;
}

static mvk_status shape(const mvk_graph *g, const mvk_node *n, int *ndim, int64_t ne[4], char *msg,
                        size_t msgsz) {
    const mvk_tensor *x = mvk_graph_tensor(g, n->src[SLOT_X]);
    if (!x) return snprintf(msg, msgsz, "needs x (N, C, ...) in slot 0"), MVK_ERR_INVALID_ARG;
    for (int s = SLOT_PARAM + 1; s < MVK_MAX_SRC; s++)
        if (n->src[s] >= 0)
            return snprintf(msg, msgsz, "slot %d is not used (x 0, scale 1, shift 2, param 3)", s),
                   MVK_ERR_INVALID_ARG;
    if ((unsigned)n->p.act >= MVK_ACT_COUNT)
        return snprintf(msg, msgsz, "unknown activation %d", (int)n->p.act), MVK_ERR_INVALID_ARG;
    if (x->ndim < 2)
        return snprintf(msg, msgsz, "x %s has %d dimension; it needs a channel axis (N, C, ...)",
                        x->name, x->ndim), MVK_ERR_SHAPE;
    int64_t c = x->ne[1];
    static const char *const names[] = {"x", "scale", "shift", "param"};
    for (int s = SLOT_SCALE; s <= SLOT_PARAM; s++) {
        const mvk_tensor *t = mvk_graph_tensor(g, n->src[s]);
        if (t && mvk_tensor_numel(t) != c)
            return snprintf(msg, msgsz, "%s %s has %lld elements, x %s has C = %lld channels (dim 1)",
                            names[s], t->name, (long long)mvk_tensor_numel(t), x->name, (long long)c),
                   MVK_ERR_SHAPE;
    }
    if ((n->p.act == MVK_ACT_PRELU || n->p.act == MVK_ACT_SRELU) && n->src[SLOT_PARAM] < 0)
        return snprintf(msg, msgsz, "activation %s needs param (C) in slot 3", mvk_act_str(n->p.act)),
               MVK_ERR_INVALID_ARG;
    *ndim = x->ndim;
    memcpy(ne, x->ne, sizeof x->ne);
    return MVK_OK;
}

static mvk_status record(mvk_rec *r, const mvk_node *n) {
    const mvk_graph *g = mvk_rec_graph(r);
    const mvk_tensor *x = mvk_graph_tensor(g, n->src[SLOT_X]);
    uint64_t count = (uint64_t)mvk_tensor_numel(x);
    uint64_t inner = (uint64_t)inner_of(x->ne, x->ndim);
    bool vec4 = inner % 4 == 0;
    if (!vec4)
        mvk_log_once(mvk_rec_ctx(r), "affine_act.scalar", "affine_act: H*W = %llu is not a multiple "
                     "of 4; using scalar loads (slower)", (unsigned long long)inner);
    uint32_t vw = vec4 ? 4 : 1, wg = 128;
    mvk_binding b[5] = {0};
    for (int s = SLOT_X; s <= SLOT_PARAM; s++)
        if (n->src[s] >= 0) b[s] = mvk_rec_tensor(r, n->src[s]);
    b[4] = mvk_rec_tensor(r, n->dst);
    uint32_t spec[7] = {wg, 1, 1, (uint32_t)n->p.act, b[1].buffer != VK_NULL_HANDLE,
                        b[2].buffer != VK_NULL_HANDLE, b[3].buffer != VK_NULL_HANDLE};
    struct { uint32_t count, inner, c; } push = {(uint32_t)(count / vw), (uint32_t)(inner / vw),
                                                 (uint32_t)x->ne[1]};
    uint32_t gx, gy;
    mvk_split_groups(mvk_rec_ctx(r), MVK_CEIL_DIV(count / vw, wg), &gx, &gy);
    return mvk_rec_dispatch(r, vec4 ? MVK_SHADER_affine_act4 : MVK_SHADER_affine_act, spec,
                            MVK_ARRAY_LEN(spec), b, 5, &push, sizeof push, gx, gy, 1);
}

static void ref(const mvk_node *n, const mvk_host_tensor *src, float *dst, const int64_t *dst_ne) {
    const mvk_host_tensor *x = &src[SLOT_X];
    int64_t count = dst_ne[0] * dst_ne[1] * dst_ne[2] * dst_ne[3];
    int64_t inner = inner_of(x->ne, x->ndim), c = x->ne[1];
    const float *scale = src[SLOT_SCALE].data, *shift = src[SLOT_SHIFT].data,
                *param = src[SLOT_PARAM].data;
    for (int64_t i = 0; i < count; i++) {
        int64_t ch = (i / inner) % c;
        float v = x->data[i];
        if (scale) v *= scale[ch];
        if (shift) v += shift[ch];
        dst[i] = mvk_act_apply(n->p.act, v, param ? param[ch] : 0.0f);
    }
}

static double flops(const mvk_graph *g, const mvk_node *n) {
    return 2.0 * (double)mvk_tensor_numel(mvk_graph_tensor(g, n->src[SLOT_X]));
}

const mvk_op_impl mvk_op_affine_act = {"affine_act", shape, NULL, record, ref, flops};
