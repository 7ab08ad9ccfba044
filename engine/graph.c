/* Graph building: tensors and op nodes, each checked by its op when added. */
#include "internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

mvk_op_params mvk_op_default_params(void) {
    return (mvk_op_params){.stride = 1, .scale = 1.0f, .eps = 1e-5f, .n = 1, .groups = 1, .k = 1};
}

static const char *const act_names[] = {"none", "relu", "prelu", "srelu", "gelu"};
_Static_assert(MVK_ARRAY_LEN(act_names) == MVK_ACT_COUNT, "one name per activation");

const char *mvk_act_str(mvk_act a) { return (unsigned)a < MVK_ACT_COUNT ? act_names[a] : "?"; }

mvk_act mvk_act_parse(const char *s) {
    for (int i = 0; s && i < MVK_ACT_COUNT; i++)
        if (!strcmp(s, act_names[i])) return (mvk_act)i;
    return MVK_ACT_COUNT;
}

float mvk_act_apply(mvk_act a, float x, float param) {
    switch (a) {
    case MVK_ACT_RELU: return x > 0 ? x : 0;
    case MVK_ACT_PRELU: return x >= 0 ? x : param * x;
    case MVK_ACT_SRELU: return x > param ? x : param;
    case MVK_ACT_GELU: return 0.5f * x * (1.0f + erff(x * 0.70710678118654752f));
    default: return x;
    }
}

mvk_status mvk_graph_create(mvk_ctx *ctx, mvk_graph **out) {
    if (!ctx || !out) return MVK_ERR_INVALID_ARG;
    *out = mvk_calloc(1, sizeof **out);
    if (!*out) return mvk_fail(ctx, MVK_ERR_OUT_OF_HOST_MEMORY, "cannot allocate a graph");
    (*out)->ctx = ctx;
    return MVK_OK;
}

void mvk_graph_destroy(mvk_graph *g) {
    if (!g) return;
    mvk_free(g->tensors);
    mvk_free(g->nodes);
    mvk_free(g);
}

const mvk_tensor *mvk_graph_tensor(const mvk_graph *g, mvk_tensor_id id) {
    return id >= 0 && id < g->ntensors ? &g->tensors[id] : NULL;
}

static mvk_status check_shape(mvk_graph *g, const char *name, int ndim, const int64_t *ne) {
    if (ndim < 1 || ndim > 4 || !ne)
        return mvk_fail(g->ctx, MVK_ERR_INVALID_ARG, "tensor %s: %d dimensions (1 to 4 allowed)",
                        name ? name : "?", ndim);
    int64_t total = 1;
    for (int i = 0; i < ndim; i++) {
        if (ne[i] < 1 || ne[i] > (1ll << 31))
            return mvk_fail(g->ctx, MVK_ERR_SHAPE, "tensor %s: dimension %d is %lld",
                            name ? name : "?", i, (long long)ne[i]);
        total *= ne[i];
        if (total > (1ll << 40))
            return mvk_fail(g->ctx, MVK_ERR_LIMIT, "tensor %s has too many elements",
                            name ? name : "?");
    }
    return MVK_OK;
}

static mvk_status add_tensor(mvk_graph *g, const char *name, mvk_tensor_kind kind, int ndim,
                             const int64_t *ne, mvk_tensor_id *out) {
    MVK_TRY(check_shape(g, name, ndim, ne));
    if (g->ntensors == g->captensors) {
        int cap = g->captensors ? g->captensors * 2 : 64;
        mvk_tensor *t = mvk_realloc(g->tensors, (size_t)cap * sizeof *t);
        if (!t) return mvk_fail(g->ctx, MVK_ERR_OUT_OF_HOST_MEMORY, "cannot grow a graph");
        g->tensors = t;
        g->captensors = cap;
    }
    mvk_tensor *t = &g->tensors[g->ntensors];
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "%s", name ? name : "");
    t->kind = kind;
    t->ndim = ndim;
    for (int i = 0; i < 4; i++) t->ne[i] = i < ndim ? ne[i] : 1;
    t->base = -1;
    *out = g->ntensors++;
    return MVK_OK;
}

mvk_status mvk_graph_input(mvk_graph *g, const char *name, int ndim, const int64_t *ne,
                           mvk_tensor_id *out) {
    if (!g || !out) return MVK_ERR_INVALID_ARG;
    return add_tensor(g, name, MVK_TENSOR_INPUT, ndim, ne, out);
}

mvk_status mvk_graph_weight(mvk_graph *g, const char *name, int ndim, const int64_t *ne,
                            mvk_buffer *buf, uint64_t offset, mvk_tensor_id *out) {
    if (!g || !out || !buf) return MVK_ERR_INVALID_ARG;
    MVK_TRY(check_shape(g, name, ndim, ne));
    int64_t n = 1;
    for (int i = 0; i < ndim; i++) n *= ne[i];
    uint64_t bytes = (uint64_t)n * 4;
    if (offset % mvk_buffer_alignment(g->ctx))
        return mvk_fail(g->ctx, MVK_ERR_INVALID_ARG, "weight %s: offset %llu is not aligned to %llu",
                        name ? name : "?", (unsigned long long)offset,
                        (unsigned long long)mvk_buffer_alignment(g->ctx));
    if (offset > buf->mem.size || bytes > buf->mem.size - offset)
        return mvk_fail(g->ctx, MVK_ERR_INVALID_ARG, "weight %s: %llu bytes at %llu overflow its buffer",
                        name ? name : "?", (unsigned long long)bytes, (unsigned long long)offset);
    MVK_TRY(add_tensor(g, name, MVK_TENSOR_WEIGHT, ndim, ne, out));
    g->tensors[*out].buf = buf;
    g->tensors[*out].offset = offset;
    return MVK_OK;
}

mvk_status mvk_graph_view(mvk_graph *g, mvk_tensor_id src, int ndim, const int64_t *ne,
                          mvk_tensor_id *out) {
    if (!g || !out) return MVK_ERR_INVALID_ARG;
    const mvk_tensor *s = mvk_graph_tensor(g, src);
    if (!s) return mvk_fail(g->ctx, MVK_ERR_INVALID_ARG, "view of unknown tensor %d", src);
    MVK_TRY(check_shape(g, s->name, ndim, ne));
    int64_t n = 1;
    for (int i = 0; i < ndim; i++) n *= ne[i];
    if (n != mvk_tensor_numel(s))
        return mvk_fail(g->ctx, MVK_ERR_SHAPE, "view of %s: %lld elements, the tensor has %lld",
                        s->name, (long long)n, (long long)mvk_tensor_numel(s));
    mvk_tensor_id base = s->kind == MVK_TENSOR_VIEW ? s->base : src;
    char name[80];
    snprintf(name, sizeof name, "%s.view", s->name);
    MVK_TRY(add_tensor(g, name, MVK_TENSOR_VIEW, ndim, ne, out));
    g->tensors[*out].base = base;
    return MVK_OK;
}

mvk_status mvk_graph_op(mvk_graph *g, mvk_op op, const mvk_tensor_id src[MVK_MAX_SRC],
                        const mvk_op_params *params, mvk_tensor_id *out) {
    if (!g || !src || !out) return MVK_ERR_INVALID_ARG;
    const mvk_op_impl *impl = mvk_op_get(op);
    if (!impl) return mvk_fail(g->ctx, MVK_ERR_INVALID_ARG, "unknown op %d", (int)op);
    for (int i = 0; i < MVK_MAX_SRC; i++)
        if (src[i] != -1 && !mvk_graph_tensor(g, src[i]))
            return mvk_fail(g->ctx, MVK_ERR_INVALID_ARG, "%s: source %d is not a tensor (%d)",
                            impl->name, i, src[i]);
    mvk_node node = {.op = op, .dst = -1, .p = params ? *params : mvk_op_default_params()};
    memcpy(node.src, src, sizeof node.src);
    if (node.p.stride == 0) node.p.stride = 1;
    if (node.p.scale == 0) node.p.scale = 1.0f;
    if (node.p.n == 0) node.p.n = 1;
    if (node.p.groups == 0) node.p.groups = 1;
    int ndim = 0;
    int64_t ne[4] = {1, 1, 1, 1};
    char msg[512] = "";
    mvk_status s = impl->shape(g, &node, &ndim, ne, msg, sizeof msg);
    if (s != MVK_OK) return mvk_fail(g->ctx, s, "%s: %s", impl->name, msg);
    if (g->nnodes == g->capnodes) {
        int cap = g->capnodes ? g->capnodes * 2 : 32;
        mvk_node *nn = mvk_realloc(g->nodes, (size_t)cap * sizeof *nn);
        if (!nn) return mvk_fail(g->ctx, MVK_ERR_OUT_OF_HOST_MEMORY, "cannot grow a graph");
        g->nodes = nn;
        g->capnodes = cap;
    }
    char name[64];
    snprintf(name, sizeof name, "%s.%d", impl->name, g->nnodes);
    MVK_TRY(add_tensor(g, name, MVK_TENSOR_ACT, ndim, ne, &node.dst));
    g->nodes[g->nnodes++] = node;
    *out = node.dst;
    return MVK_OK;
}

mvk_status mvk_graph_output(mvk_graph *g, mvk_tensor_id t) {
    if (!g || !mvk_graph_tensor(g, t)) return MVK_ERR_INVALID_ARG;
    g->tensors[t].output = true;
    return MVK_OK;
}

int mvk_graph_shape(const mvk_graph *g, mvk_tensor_id t, int64_t ne[4]) {
    const mvk_tensor *x = g ? mvk_graph_tensor(g, t) : NULL;
    if (!x) return 0;
    for (int i = 0; i < 4; i++) ne[i] = x->ne[i];
    return x->ndim;
}

double mvk_graph_flops(const mvk_graph *g) {
    double f = 0;
    for (int i = 0; g && i < g->nnodes; i++) {
        const mvk_op_impl *impl = mvk_op_get(g->nodes[i].op);
        if (impl->flops) f += impl->flops(g, &g->nodes[i]);
    }
    return f;
}
