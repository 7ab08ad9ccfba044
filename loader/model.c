/* Model files: the graph JSON of docs/model-format.md mapped to engine ops through a registry of
 * node kinds, weights uploaded once, and plans cached per (n, groups). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "safetensors.h"

#define MAX_IN 2

typedef struct model_node model_node;
typedef struct builder builder;

/* A node kind of the file format: how to read its attributes, how to add its engine ops. */
typedef struct node_kind {
    const char *name;
    int min_in, max_in;
    mvk_status (*parse)(mvk_model *m, const cJSON *j, model_node *n);
    mvk_status (*build)(builder *b, const model_node *n, const mvk_tensor_id *in, mvk_tensor_id *out);
} node_kind;

struct model_node {
    const node_kind *kind;
    int index;
    char *out;
    char *in[MAX_IN];
    int nin;
    int stride, pad;
    mvk_act act, pre_act;
    float residual_scale;
    /* File tensor indices, -1 when absent. */
    int w, bias, pre_scale, pre_shift, pre_param, act_param;
    int sup[MVK_MAX_N + 1]; /* superpose: weights per n */
};

typedef struct cached_plan {
    int n, groups;
    mvk_graph *g;
    mvk_plan *plan;
    mvk_tensor_id in, out;
} cached_plan;

typedef struct file_tensor {
    char *name;
    int ndim;
    int64_t ne[4];
    uint64_t offset; /* in the weight buffer; UINT64_MAX when the graph does not use it */
} file_tensor;

struct mvk_model {
    mvk_ctx *ctx;
    mvk_model_info info;
    char *name, *family, *description, *config_json;
    char **labels;
    file_tensor *tensors;
    int ntensors;
    mvk_buffer *weights;
    model_node *nodes;
    int nnodes;
    char *output;
    bool superposed;
    int groups;
    cached_plan *plans;
    int nplans;
};

struct builder {
    mvk_model *m;
    mvk_graph *g;
    int n;
    int64_t images;
    const char **names;
    mvk_tensor_id *ids;
    int nnames;
    mvk_tensor_id *wid; /* per file tensor, -1 until used */
};

/* ---- attribute parsing ---------------------------------------------------------------------- */

static mvk_status node_fail(mvk_model *m, const model_node *n, mvk_status s, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static mvk_status node_fail(mvk_model *m, const model_node *n, mvk_status s, const char *fmt, ...) {
    char buf[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return mvk_fail(m->ctx, s, "node %d (%s): %s", n->index, n->kind ? n->kind->name : "?", buf);
}

static int find_tensor(const mvk_model *m, const char *name) {
    for (int i = 0; i < m->ntensors; i++)
        if (!strcmp(m->tensors[i].name, name)) return i;
    return -1;
}

/* Reads an optional tensor attribute: absent → -1; present → the file tensor, which must exist. */
static mvk_status tensor_attr(mvk_model *m, model_node *n, const cJSON *j, const char *key, bool required,
                              int *out) {
    *out = -1;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
    if (!v || cJSON_IsNull(v)) {
        if (required) return node_fail(m, n, MVK_ERR_FORMAT, "attribute \"%s\" is missing", key);
        return MVK_OK;
    }
    if (!cJSON_IsString(v)) return node_fail(m, n, MVK_ERR_FORMAT, "attribute \"%s\" is not a tensor name", key);
    int t = find_tensor(m, v->valuestring);
    if (t < 0)
        return node_fail(m, n, MVK_ERR_FORMAT, "tensor \"%.200s\" (attribute \"%s\") is missing from the file",
                         v->valuestring, key);
    *out = t;
    return MVK_OK;
}

static mvk_status int_attr(mvk_model *m, model_node *n, const cJSON *j, const char *key, int lo, int hi,
                           int def, int *out) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
    *out = def;
    if (!v) return MVK_OK;
    if (!cJSON_IsNumber(v) || v->valuedouble != (double)(int)v->valuedouble || v->valueint < lo ||
        v->valueint > hi)
        return node_fail(m, n, MVK_ERR_FORMAT, "attribute \"%s\" must be an integer in [%d, %d]", key, lo, hi);
    *out = v->valueint;
    return MVK_OK;
}

static mvk_status act_attr(mvk_model *m, model_node *n, const cJSON *j, const char *key, mvk_act *out) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
    *out = MVK_ACT_NONE;
    if (!v) return MVK_OK;
    if (!cJSON_IsString(v) || (*out = mvk_act_parse(v->valuestring)) == MVK_ACT_COUNT)
        return node_fail(m, n, MVK_ERR_FORMAT, "unknown activation in \"%s\"", key);
    return MVK_OK;
}

static bool needs_param(mvk_act a) { return a == MVK_ACT_PRELU || a == MVK_ACT_SRELU; }

static mvk_status parse_conv2d(mvk_model *m, const cJSON *j, model_node *n) {
    MVK_TRY(tensor_attr(m, n, j, "weight", true, &n->w));
    MVK_TRY(tensor_attr(m, n, j, "bias", false, &n->bias));
    MVK_TRY(int_attr(m, n, j, "stride", 1, 16, 1, &n->stride));
    MVK_TRY(int_attr(m, n, j, "pad", 0, 16, 0, &n->pad));
    MVK_TRY(act_attr(m, n, j, "act", &n->act));
    MVK_TRY(tensor_attr(m, n, j, "act_param", needs_param(n->act), &n->act_param));
    const cJSON *rs = cJSON_GetObjectItemCaseSensitive(j, "residual_scale");
    n->residual_scale = 1.0f;
    if (rs) {
        if (!cJSON_IsNumber(rs) || !isfinite(rs->valuedouble))
            return node_fail(m, n, MVK_ERR_FORMAT, "attribute \"residual_scale\" is not a number");
        n->residual_scale = (float)rs->valuedouble;
    }
    const cJSON *pre = cJSON_GetObjectItemCaseSensitive(j, "pre");
    if (pre && !cJSON_IsNull(pre)) {
        if (!cJSON_IsObject(pre)) return node_fail(m, n, MVK_ERR_FORMAT, "attribute \"pre\" is not an object");
        MVK_TRY(tensor_attr(m, n, pre, "scale", false, &n->pre_scale));
        MVK_TRY(tensor_attr(m, n, pre, "shift", false, &n->pre_shift));
        MVK_TRY(act_attr(m, n, pre, "act", &n->pre_act));
        MVK_TRY(tensor_attr(m, n, pre, "act_param", needs_param(n->pre_act), &n->pre_param));
    }
    return MVK_OK;
}

static mvk_status parse_linear(mvk_model *m, const cJSON *j, model_node *n) {
    MVK_TRY(tensor_attr(m, n, j, "weight", true, &n->w));
    MVK_TRY(tensor_attr(m, n, j, "bias", false, &n->bias));
    MVK_TRY(act_attr(m, n, j, "act", &n->act));
    return tensor_attr(m, n, j, "act_param", needs_param(n->act), &n->act_param);
}

static mvk_status parse_superpose(mvk_model *m, const cJSON *j, model_node *n) {
    const cJSON *w = cJSON_GetObjectItemCaseSensitive(j, "weights");
    if (!cJSON_IsObject(w)) return node_fail(m, n, MVK_ERR_FORMAT, "attribute \"weights\" must map n to a tensor");
    for (const cJSON *it = w->child; it; it = it->next) {
        char *end;
        long k = strtol(it->string ? it->string : "", &end, 10);
        if (*end || k < 1 || k > MVK_MAX_N || m->info.capacity % k)
            return node_fail(m, n, MVK_ERR_FORMAT, "weights key \"%.20s\" is not an n dividing the capacity %d",
                             it->string ? it->string : "", m->info.capacity);
        if (!cJSON_IsString(it)) return node_fail(m, n, MVK_ERR_FORMAT, "weights[%ld] is not a tensor name", k);
        int t = find_tensor(m, it->valuestring);
        if (t < 0)
            return node_fail(m, n, MVK_ERR_FORMAT, "tensor \"%.200s\" (weights for n = %ld) is missing from the file",
                             it->valuestring, k);
        n->sup[k] = t;
    }
    for (int k = 1; k <= m->info.capacity; k++)
        if (m->info.capacity % k == 0 && n->sup[k] < 0)
            return node_fail(m, n, MVK_ERR_FORMAT, "no superpose weights for n = %d", k);
    m->superposed = true;
    return MVK_OK;
}

static mvk_status parse_none(mvk_model *m, const cJSON *j, model_node *n) {
    (void)m;
    (void)j;
    (void)n;
    return MVK_OK;
}

/* ---- graph building ------------------------------------------------------------------------- */

static mvk_status weight_id(builder *b, int t, mvk_tensor_id *out) {
    *out = -1;
    if (t < 0) return MVK_OK;
    if (b->wid[t] < 0) {
        const file_tensor *ft = &b->m->tensors[t];
        MVK_TRY(mvk_graph_weight(b->g, ft->name, ft->ndim, ft->ne, b->m->weights, ft->offset, &b->wid[t]));
    }
    *out = b->wid[t];
    return MVK_OK;
}

static mvk_status add_op(builder *b, const model_node *n, mvk_op op, const mvk_tensor_id *src,
                         const mvk_op_params *p, mvk_tensor_id *out) {
    mvk_status s = mvk_graph_op(b->g, op, src, p, out);
    if (s != MVK_OK) {
        const char *w = n->w >= 0 ? b->m->tensors[n->w].name : "";
        return node_fail(b->m, n, s, "%s%s%s%s (n = %d)", w[0] ? "weight '" : "", w, w[0] ? "': " : "",
                         mvk_ctx_error(b->m->ctx), b->n);
    }
    return MVK_OK;
}

static mvk_status build_conv2d(builder *b, const model_node *n, const mvk_tensor_id *in, mvk_tensor_id *out) {
    mvk_tensor_id src[MVK_MAX_SRC] = {in[0], -1, -1, -1, -1, -1, -1, n->nin > 1 ? in[1] : -1};
    MVK_TRY(weight_id(b, n->w, &src[MVK_SRC_W]));
    MVK_TRY(weight_id(b, n->bias, &src[MVK_SRC_BIAS]));
    MVK_TRY(weight_id(b, n->pre_scale, &src[MVK_SRC_PRE_SCALE]));
    MVK_TRY(weight_id(b, n->pre_shift, &src[MVK_SRC_PRE_SHIFT]));
    MVK_TRY(weight_id(b, n->pre_param, &src[MVK_SRC_PRE_PARAM]));
    MVK_TRY(weight_id(b, n->act_param, &src[MVK_SRC_ACT_PARAM]));
    mvk_op_params p = mvk_op_default_params();
    p.stride = n->stride;
    p.pad = n->pad;
    p.act = n->act;
    p.pre_act = n->pre_act;
    p.scale = n->residual_scale;
    return add_op(b, n, MVK_OP_CONV2D, src, &p, out);
}

static mvk_status build_linear(builder *b, const model_node *n, const mvk_tensor_id *in, mvk_tensor_id *out) {
    mvk_tensor_id src[MVK_MAX_SRC] = {in[0], -1, -1, -1, -1, -1, -1, -1};
    MVK_TRY(weight_id(b, n->w, &src[MVK_SRC_W]));
    MVK_TRY(weight_id(b, n->bias, &src[MVK_SRC_BIAS]));
    MVK_TRY(weight_id(b, n->act_param, &src[MVK_SRC_ACT_PARAM]));
    mvk_op_params p = mvk_op_default_params();
    p.act = n->act;
    return add_op(b, n, MVK_OP_LINEAR, src, &p, out);
}

static mvk_status build_superpose(builder *b, const model_node *n, const mvk_tensor_id *in, mvk_tensor_id *out) {
    mvk_tensor_id src[MVK_MAX_SRC] = {in[0], -1, -1, -1, -1, -1, -1, -1};
    MVK_TRY(weight_id(b, n->sup[b->n], &src[1]));
    mvk_op_params p = mvk_op_default_params();
    p.n = b->n;
    return add_op(b, n, MVK_OP_SUPERPOSE, src, &p, out);
}

static mvk_status build_unsuperpose(builder *b, const model_node *n, const mvk_tensor_id *in, mvk_tensor_id *out) {
    mvk_tensor_id src[MVK_MAX_SRC] = {in[0], -1, -1, -1, -1, -1, -1, -1};
    mvk_op_params p = mvk_op_default_params();
    p.n = b->n;
    p.groups = b->m->info.capacity / b->n;
    return add_op(b, n, MVK_OP_GROUP_MEAN, src, &p, out);
}

static mvk_status build_avgpool(builder *b, const model_node *n, const mvk_tensor_id *in, mvk_tensor_id *out) {
    mvk_tensor_id src[MVK_MAX_SRC] = {in[0], -1, -1, -1, -1, -1, -1, -1};
    return add_op(b, n, MVK_OP_GLOBAL_AVGPOOL, src, NULL, out);
}

/* The node kinds of the file format, one line each. */
static const node_kind kinds[] = {
    {"conv2d", 1, 2, parse_conv2d, build_conv2d},
    {"superpose", 1, 1, parse_superpose, build_superpose},
    {"global_avgpool", 1, 1, parse_none, build_avgpool},
    {"linear", 1, 1, parse_linear, build_linear},
    {"unsuperpose", 1, 1, parse_none, build_unsuperpose},
};

static mvk_tensor_id lookup(const builder *b, const char *name) {
    for (int i = b->nnames - 1; i >= 0; i--)
        if (!strcmp(b->names[i], name)) return b->ids[i];
    return -1;
}

/* Builds the graph for n inputs per pass and `groups` superposed samples. */
static mvk_status build_graph(mvk_model *m, int n, int groups, mvk_graph **gout, mvk_tensor_id *in,
                              mvk_tensor_id *out) {
    mvk_ctx *ctx = m->ctx;
    builder b = {.m = m, .n = n, .images = (int64_t)groups * n};
    mvk_status s = mvk_graph_create(ctx, &b.g);
    if (s != MVK_OK) return s;
    b.names = mvk_calloc((size_t)m->nnodes + 1, sizeof *b.names);
    b.ids = mvk_calloc((size_t)m->nnodes + 1, sizeof *b.ids);
    b.wid = mvk_malloc(((size_t)m->ntensors + 1) * sizeof *b.wid);
    if (!b.names || !b.ids || !b.wid) s = mvk_fail(ctx, MVK_ERR_OUT_OF_HOST_MEMORY, "graph builder");
    for (int i = 0; s == MVK_OK && i < m->ntensors; i++) b.wid[i] = -1;
    int64_t ne[4] = {b.images, m->info.channels, m->info.height, m->info.width};
    if (s == MVK_OK) s = mvk_graph_input(b.g, "input", 4, ne, &b.ids[0]);
    if (s == MVK_OK) b.names[b.nnames++] = "input";
    for (int i = 0; s == MVK_OK && i < m->nnodes; i++) {
        const model_node *nd = &m->nodes[i];
        mvk_tensor_id ins[MAX_IN];
        for (int k = 0; k < nd->nin; k++) {
            ins[k] = lookup(&b, nd->in[k]);
            if (ins[k] < 0) s = node_fail(m, nd, MVK_ERR_FORMAT, "input \"%.200s\" is not produced by an earlier node",
                                          nd->in[k]);
        }
        mvk_tensor_id o = -1;
        if (s == MVK_OK) s = nd->kind->build(&b, nd, ins, &o);
        if (s == MVK_OK) {
            b.names[b.nnames] = nd->out;
            b.ids[b.nnames++] = o;
        }
    }
    mvk_tensor_id o = s == MVK_OK ? lookup(&b, m->output) : -1;
    if (s == MVK_OK && o < 0)
        s = mvk_fail(ctx, MVK_ERR_FORMAT, "the output \"%.200s\" is not produced by any node", m->output);
    if (s == MVK_OK) {
        int64_t on[4];
        int nd = mvk_graph_shape(b.g, o, on);
        if (nd != 2 || on[0] != b.images)
            s = mvk_fail(ctx, MVK_ERR_FORMAT, "the output \"%.200s\" is not (images, classes) logits "
                         "(%d dimensions, %lld rows for %lld images)", m->output, nd,
                         (long long)on[0], (long long)b.images);
        else if (m->info.num_classes && on[1] != m->info.num_classes)
            s = mvk_fail(ctx, MVK_ERR_FORMAT, "the output has %lld classes but the file lists %d labels",
                         (long long)on[1], m->info.num_classes);
        else m->info.num_classes = (int)on[1];
    }
    if (s == MVK_OK) s = mvk_graph_output(b.g, o);
    mvk_free(b.names);
    mvk_free(b.wid);
    if (s == MVK_OK) {
        *in = b.ids[0];
        *out = o;
        *gout = b.g;
    } else {
        mvk_graph_destroy(b.g);
    }
    mvk_free(b.ids);
    return s;
}

/* ---- loading ------------------------------------------------------------------------------ */

static char *dup_str(const cJSON *j, const char *key, const char *def) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
    return mvk_strdup(cJSON_IsString(v) ? v->valuestring : def);
}

static mvk_status parse_input(mvk_model *m, const cJSON *root) {
    mvk_ctx *ctx = m->ctx;
    const cJSON *in = cJSON_GetObjectItemCaseSensitive(root, "input");
    if (!cJSON_IsObject(in)) return mvk_fail(ctx, MVK_ERR_FORMAT, "graph: \"input\" is missing");
    const char *dims[3] = {"channels", "height", "width"};
    int *vals[3] = {&m->info.channels, &m->info.height, &m->info.width};
    for (int i = 0; i < 3; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(in, dims[i]);
        if (!cJSON_IsNumber(v) || v->valuedouble != (double)v->valueint || v->valueint < 1 ||
            v->valueint > (i == 0 ? 4 : 4096))
            return mvk_fail(ctx, MVK_ERR_FORMAT, "graph: input.%s must be an integer in [1, %d]", dims[i],
                            i == 0 ? 4 : 4096);
        *vals[i] = v->valueint;
    }
    const char *ms[2] = {"mean", "std"};
    float *dst[2] = {m->info.mean, m->info.std};
    for (int k = 0; k < 2; k++) {
        const cJSON *a = cJSON_GetObjectItemCaseSensitive(in, ms[k]);
        for (int c = 0; c < 4; c++) dst[k][c] = k ? 1.0f : 0.0f;
        if (!a) continue;
        if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) != m->info.channels)
            return mvk_fail(ctx, MVK_ERR_FORMAT, "graph: input.%s must list %d numbers", ms[k], m->info.channels);
        int c = 0;
        for (const cJSON *v = a->child; v; v = v->next, c++) {
            if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || (k == 1 && v->valuedouble <= 0))
                return mvk_fail(ctx, MVK_ERR_FORMAT, "graph: input.%s[%d] is not a valid number", ms[k], c);
            dst[k][c] = (float)v->valuedouble;
        }
    }
    const cJSON *pol = cJSON_GetObjectItemCaseSensitive(in, "polarity");
    m->info.light_on_dark = cJSON_IsString(pol) && !strcmp(pol->valuestring, "light_on_dark");
    const cJSON *labels = cJSON_GetObjectItemCaseSensitive(in, "labels");
    if (labels) {
        int nl = cJSON_IsArray(labels) ? cJSON_GetArraySize(labels) : -1;
        if (nl < 1 || nl > 100000) return mvk_fail(ctx, MVK_ERR_FORMAT, "graph: input.labels must be a list of names");
        m->labels = mvk_calloc((size_t)nl, sizeof *m->labels);
        if (!m->labels) return mvk_fail(ctx, MVK_ERR_OUT_OF_HOST_MEMORY, "labels");
        /* Counted before the names are copied, so a failure part-way frees the ones made. */
        m->info.num_classes = nl;
        int i = 0;
        for (const cJSON *v = labels->child; v; v = v->next, i++) {
            if (!cJSON_IsString(v)) return mvk_fail(ctx, MVK_ERR_FORMAT, "graph: input.labels[%d] is not a string", i);
            if (!(m->labels[i] = mvk_strdup(v->valuestring)))
                return mvk_fail(ctx, MVK_ERR_OUT_OF_HOST_MEMORY, "labels");
        }
        m->info.labels = (const char *const *)m->labels;
    }
    return MVK_OK;
}

static mvk_status parse_nodes(mvk_model *m, const cJSON *root) {
    mvk_ctx *ctx = m->ctx;
    const cJSON *nodes = cJSON_GetObjectItemCaseSensitive(root, "nodes");
    int nn = cJSON_IsArray(nodes) ? cJSON_GetArraySize(nodes) : -1;
    if (nn < 1 || nn > 100000) return mvk_fail(ctx, MVK_ERR_FORMAT, "graph: \"nodes\" must be a non-empty list");
    m->nodes = mvk_calloc((size_t)nn, sizeof *m->nodes);
    if (!m->nodes) return mvk_fail(ctx, MVK_ERR_OUT_OF_HOST_MEMORY, "nodes");
    int i = 0;
    for (const cJSON *j = nodes->child; j; j = j->next, i++) {
        model_node *n = &m->nodes[i];
        m->nnodes = i + 1;
        n->index = i;
        n->w = n->bias = n->pre_scale = n->pre_shift = n->pre_param = n->act_param = -1;
        for (int k = 0; k <= MVK_MAX_N; k++) n->sup[k] = -1;
        if (!cJSON_IsObject(j)) return node_fail(m, n, MVK_ERR_FORMAT, "not an object");
        const cJSON *op = cJSON_GetObjectItemCaseSensitive(j, "op");
        if (!cJSON_IsString(op)) return node_fail(m, n, MVK_ERR_FORMAT, "\"op\" is missing");
        for (size_t k = 0; k < MVK_ARRAY_LEN(kinds); k++)
            if (!strcmp(op->valuestring, kinds[k].name)) n->kind = &kinds[k];
        if (!n->kind) return node_fail(m, n, MVK_ERR_FORMAT, "unknown op \"%.64s\"", op->valuestring);
        const cJSON *ins = cJSON_GetObjectItemCaseSensitive(j, "inputs");
        const cJSON *out = cJSON_GetObjectItemCaseSensitive(j, "output");
        int nin = cJSON_IsArray(ins) ? cJSON_GetArraySize(ins) : -1;
        if (nin < n->kind->min_in || nin > n->kind->max_in)
            return node_fail(m, n, MVK_ERR_FORMAT, "needs %d to %d inputs", n->kind->min_in, n->kind->max_in);
        int k = 0;
        for (const cJSON *v = ins->child; v; v = v->next, k++) {
            if (!cJSON_IsString(v)) return node_fail(m, n, MVK_ERR_FORMAT, "inputs[%d] is not a name", k);
            if (!(n->in[k] = mvk_strdup(v->valuestring))) return mvk_fail(ctx, MVK_ERR_OUT_OF_HOST_MEMORY, "nodes");
            n->nin = k + 1;
        }
        if (!cJSON_IsString(out)) return node_fail(m, n, MVK_ERR_FORMAT, "\"output\" is missing");
        if (!(n->out = mvk_strdup(out->valuestring))) return mvk_fail(ctx, MVK_ERR_OUT_OF_HOST_MEMORY, "nodes");
        MVK_TRY(n->kind->parse(m, j, n));
    }
    return MVK_OK;
}

/* Marks the tensors the nodes use, checks them and gives each an offset in the weight buffer. */
static mvk_status check_weights(mvk_model *m, const mvk_st_file *f, uint64_t *bytes) {
    uint64_t align = mvk_buffer_alignment(m->ctx), total = 0;
    for (int i = 0; i < m->nnodes; i++) {
        const model_node *n = &m->nodes[i];
        int refs[6 + MVK_MAX_N + 1] = {n->w, n->bias, n->pre_scale, n->pre_shift, n->pre_param, n->act_param};
        for (int k = 0; k <= MVK_MAX_N; k++) refs[6 + k] = n->sup[k];
        for (size_t r = 0; r < MVK_ARRAY_LEN(refs); r++) {
            int t = refs[r];
            if (t < 0 || m->tensors[t].offset != UINT64_MAX) continue;
            const mvk_st_tensor *st = &f->tensors[t];
            if (st->dtype != MVK_DT_F32)
                return node_fail(m, n, MVK_ERR_FORMAT, "tensor \"%.200s\" has dtype %s; mimovk reads F32",
                                 st->name, mvk_st_dtype_str(st->dtype));
            if (st->ndim < 1 || st->ndim > 4)
                return node_fail(m, n, MVK_ERR_FORMAT, "tensor \"%.200s\" has %d dimensions (1 to 4 allowed)",
                                 st->name, st->ndim);
            for (int d = 0; d < st->ndim; d++)
                if (st->shape[d] < 1 || st->shape[d] > (1 << 30))
                    return node_fail(m, n, MVK_ERR_FORMAT, "tensor \"%.200s\" has dimension %d of size %lld",
                                     st->name, d, (long long)st->shape[d]);
            m->tensors[t].offset = total;
            total += (st->end - st->begin + align - 1) / align * align;
            m->info.parameters += (st->end - st->begin) / 4;
        }
    }
    *bytes = total;
    return MVK_OK;
}

/* Uploads the used tensors into one device buffer. */
static mvk_status upload_weights(mvk_model *m, const mvk_st_file *f, uint64_t total) {
    MVK_TRY(mvk_buffer_create(m->ctx, total ? total : 16, &m->weights));
    for (int t = 0; t < m->ntensors; t++) {
        if (m->tensors[t].offset == UINT64_MAX) continue;
        const mvk_st_tensor *st = &f->tensors[t];
        /* safetensors data need not be 4-byte aligned in memory: the upload is a byte copy. */
        MVK_TRY(mvk_buffer_upload(m->weights, m->tensors[t].offset, f->data + st->begin, st->end - st->begin));
    }
    return MVK_OK;
}

/* Everything short of the device: metadata, graph, node attributes, tensor checks. */
static mvk_status parse_model(mvk_model *m, const mvk_st_file *fp, uint64_t *weight_bytes) {
    mvk_ctx *ctx = m->ctx;
    const mvk_st_file f = *fp;
    cJSON *root = NULL;
    mvk_status s = MVK_OK;
    const char *fmt = mvk_st_meta(&f, "format");
    const char *graph = mvk_st_meta(&f, "mimovk");
    if (!fmt || strcmp(fmt, "mimovk") || !graph)
        s = mvk_fail(ctx, MVK_ERR_FORMAT, "__metadata__ lacks \"format\": \"mimovk\" and the \"mimovk\" graph: "
                     "not a mimovk model file");
    if (s == MVK_OK && !(root = cJSON_ParseWithOpts(graph, NULL, 1)))
        s = mvk_fail(ctx, MVK_ERR_FORMAT, "__metadata__.mimovk is not valid JSON");
    if (s == MVK_OK && !cJSON_IsObject(root))
        s = mvk_fail(ctx, MVK_ERR_FORMAT, "__metadata__.mimovk is not a JSON object");
    if (s == MVK_OK) {
        const cJSON *ver = cJSON_GetObjectItemCaseSensitive(root, "format_version");
        if (!cJSON_IsNumber(ver) || ver->valueint != 1)
            s = mvk_fail(ctx, MVK_ERR_FORMAT, "graph: format_version must be 1");
    }
    if (s == MVK_OK) {
        m->tensors = mvk_calloc((size_t)f.ntensors + 1, sizeof *m->tensors);
        if (!m->tensors) s = mvk_fail(ctx, MVK_ERR_OUT_OF_HOST_MEMORY, "tensor table");
        else m->ntensors = f.ntensors;
        for (int i = 0; s == MVK_OK && i < f.ntensors; i++) {
            file_tensor *t = &m->tensors[i];
            t->offset = UINT64_MAX;
            t->ndim = MVK_MIN(f.tensors[i].ndim, 4);
            for (int d = 0; d < 4; d++) t->ne[d] = d < t->ndim ? f.tensors[i].shape[d] : 1;
            if (!(t->name = mvk_strdup(f.tensors[i].name))) s = mvk_fail(ctx, MVK_ERR_OUT_OF_HOST_MEMORY, "names");
        }
    }
    if (s == MVK_OK) {
        const cJSON *cap = cJSON_GetObjectItemCaseSensitive(root, "capacity");
        m->info.capacity = 1;
        if (cap && (!cJSON_IsNumber(cap) || cap->valuedouble != (double)cap->valueint || cap->valueint < 1 ||
                    cap->valueint > MVK_MAX_N))
            s = mvk_fail(ctx, MVK_ERR_FORMAT, "graph: capacity must be an integer in [1, %d]", MVK_MAX_N);
        else if (cap) m->info.capacity = cap->valueint;
    }
    if (s == MVK_OK) s = parse_input(m, root);
    if (s == MVK_OK) s = parse_nodes(m, root);
    if (s == MVK_OK) {
        m->name = dup_str(root, "name", "model");
        m->family = dup_str(root, "family", "");
        m->description = dup_str(root, "description", "");
        m->output = dup_str(root, "output", "logits");
        const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(root, "config");
        m->config_json = cfg ? cJSON_PrintUnformatted(cfg) : mvk_strdup("");
        if (!m->name || !m->family || !m->description || !m->output || !m->config_json)
            s = mvk_fail(ctx, MVK_ERR_OUT_OF_HOST_MEMORY, "model strings");
    }
    if (s == MVK_OK) {
        m->info.name = m->name;
        m->info.family = m->family;
        m->info.description = m->description;
        m->info.config_json = m->config_json;
        /* Without a superpose node the network has no slots: it runs one image per pass. */
        for (int k = 1; k <= (m->superposed ? m->info.capacity : 1); k++)
            if (m->info.capacity % k == 0) m->info.valid_n[m->info.n_valid++] = k;
        const cJSON *ref = cJSON_GetObjectItemCaseSensitive(root, "reference");
        const cJSON *acc = ref ? cJSON_GetObjectItemCaseSensitive(ref, "accuracy") : NULL;
        const cJSON *imgs = ref ? cJSON_GetObjectItemCaseSensitive(ref, "images") : NULL;
        m->info.reference_images = cJSON_IsNumber(imgs) ? imgs->valueint : 0;
        for (int i = 0; i < m->info.n_valid; i++) {
            char key[8];
            snprintf(key, sizeof key, "%d", m->info.valid_n[i]);
            const cJSON *a = acc ? cJSON_GetObjectItemCaseSensitive(acc, key) : NULL;
            m->info.reference_accuracy[i] = cJSON_IsNumber(a) ? a->valuedouble : -1;
        }
        s = check_weights(m, &f, weight_bytes);
    }
    cJSON_Delete(root);
    return s;
}

static mvk_status load(mvk_model *m, const char *path) {
    mvk_st_file f;
    MVK_TRY(mvk_st_open(m->ctx, path, &f));
    uint64_t bytes = 0;
    mvk_status s = parse_model(m, &f, &bytes);
    if (s == MVK_OK) s = upload_weights(m, &f, bytes);
    mvk_st_close(&f);
    return s;
}

mvk_status mvk_model_check_bytes(const uint8_t *bytes, size_t size, char *err, size_t errsz) {
    mvk_model *m = mvk_calloc(1, sizeof *m);
    if (!m) return MVK_ERR_OUT_OF_HOST_MEMORY;
    mvk_st_file f;
    uint64_t total = 0;
    mvk_status s = mvk_st_parse(NULL, bytes, size, &f);
    if (s == MVK_OK) {
        s = parse_model(m, &f, &total);
        mvk_st_close(&f);
    }
    if (err && errsz) snprintf(err, errsz, "%s", mvk_status_str(s));
    mvk_model_destroy(m);
    return s;
}

mvk_status mvk_model_load(mvk_ctx *ctx, const char *path, mvk_model **out) {
    if (!ctx || !path || !out) return ctx ? mvk_fail(ctx, MVK_ERR_INVALID_ARG, "mvk_model_load: null argument")
                                          : MVK_ERR_INVALID_ARG;
    *out = NULL;
    mvk_model *m = mvk_calloc(1, sizeof *m);
    if (!m) return mvk_fail(ctx, MVK_ERR_OUT_OF_HOST_MEMORY, "cannot allocate a model");
    m->ctx = ctx;
    m->groups = 16;
    mvk_status s = load(m, path);
    /* Build every operating point once at load: a shape error surfaces now, not at first use,
     * and the FLOPs per image are known for `mimovk info`. */
    for (int i = 0; s == MVK_OK && i < m->info.n_valid; i++) {
        mvk_graph *g;
        mvk_tensor_id a, b;
        s = build_graph(m, m->info.valid_n[i], 1, &g, &a, &b);
        if (s == MVK_OK) {
            m->info.flops_per_image[i] = mvk_graph_flops(g) / m->info.valid_n[i];
            mvk_graph_destroy(g);
        }
    }
    if (s != MVK_OK) {
        mvk_model_destroy(m);
        return s;
    }
    mvk_log(ctx, MVK_LOG_INFO, "model %s: %d nodes, capacity %d, %llu parameters", m->name, m->nnodes,
            m->info.capacity, (unsigned long long)m->info.parameters);
    *out = m;
    return MVK_OK;
}

static void drop_plans(mvk_model *m) {
    for (int i = 0; i < m->nplans; i++) {
        mvk_plan_destroy(m->plans[i].plan);
        mvk_graph_destroy(m->plans[i].g);
    }
    mvk_free(m->plans);
    m->plans = NULL;
    m->nplans = 0;
}

void mvk_model_destroy(mvk_model *m) {
    if (!m) return;
    drop_plans(m);
    for (int i = 0; i < m->nnodes; i++) {
        mvk_free(m->nodes[i].out);
        for (int k = 0; k < MAX_IN; k++) mvk_free(m->nodes[i].in[k]);
    }
    mvk_free(m->nodes);
    for (int i = 0; i < m->ntensors; i++) mvk_free(m->tensors[i].name);
    mvk_free(m->tensors);
    for (int i = 0; m->labels && i < m->info.num_classes; i++) mvk_free(m->labels[i]);
    mvk_free(m->labels);
    mvk_buffer_destroy(m->weights);
    mvk_free(m->name);
    mvk_free(m->family);
    mvk_free(m->description);
    mvk_free(m->output);
    if (m->config_json) cJSON_free(m->config_json);
    mvk_free(m);
}

const mvk_model_info *mvk_model_get_info(const mvk_model *m) { return m ? &m->info : NULL; }

mvk_status mvk_model_set_groups(mvk_model *m, int groups) {
    if (!m) return MVK_ERR_INVALID_ARG;
    if (groups < 1 || groups > 65536)
        return mvk_fail(m->ctx, MVK_ERR_INVALID_ARG, "groups must be in [1, 65536], not %d", groups);
    if (groups != m->groups) drop_plans(m);
    m->groups = groups;
    return MVK_OK;
}

static bool valid_n(const mvk_model *m, int n) {
    for (int i = 0; i < m->info.n_valid; i++)
        if (m->info.valid_n[i] == n) return true;
    return false;
}

static mvk_status get_plan(mvk_model *m, int n, cached_plan **out) {
    for (int i = 0; i < m->nplans; i++)
        if (m->plans[i].n == n && m->plans[i].groups == m->groups) {
            *out = &m->plans[i];
            return MVK_OK;
        }
    cached_plan *p = mvk_realloc(m->plans, ((size_t)m->nplans + 1) * sizeof *p);
    if (!p) return mvk_fail(m->ctx, MVK_ERR_OUT_OF_HOST_MEMORY, "plan cache");
    m->plans = p;
    cached_plan *c = &m->plans[m->nplans];
    memset(c, 0, sizeof *c);
    c->n = n;
    c->groups = m->groups;
    MVK_TRY(build_graph(m, n, m->groups, &c->g, &c->in, &c->out));
    mvk_status s = mvk_plan_create(m->ctx, c->g, &c->plan);
    if (s != MVK_OK) {
        mvk_graph_destroy(c->g);
        if (s == MVK_ERR_OUT_OF_DEVICE_MEMORY || s == MVK_ERR_LIMIT)
            return mvk_fail(m->ctx, s, "%s (n = %d, %d images per pass): use fewer groups per pass",
                            mvk_ctx_error(m->ctx), n, m->groups * n);
        return s;
    }
    m->nplans++;
    *out = c;
    return MVK_OK;
}

mvk_status mvk_model_run(mvk_model *m, int n, const float *input, int count, float *logits) {
    if (!m) return MVK_ERR_INVALID_ARG;
    mvk_ctx *ctx = m->ctx;
    if (count < 0 || (count > 0 && (!input || !logits)))
        return mvk_fail(ctx, MVK_ERR_INVALID_ARG, "mvk_model_run: %s", count < 0 ? "negative count" : "null buffer");
    if (!valid_n(m, n)) {
        char list[64] = "";
        for (int i = 0; i < m->info.n_valid; i++)
            snprintf(list + strlen(list), sizeof list - strlen(list), "%s%d", i ? ", " : "", m->info.valid_n[i]);
        return mvk_fail(ctx, MVK_ERR_BAD_N, "n = %d does not divide the capacity %d%s (valid n: %s)", n,
                        m->info.capacity, m->superposed ? "" : " of a model without superposition", list);
    }
    const size_t img = (size_t)m->info.channels * m->info.height * m->info.width;
    const size_t k = (size_t)m->info.num_classes;
    int pos = 0, cur = n;
    while (pos < count) {
        int rem = count - pos;
        /* The tail that does not fill a group runs at the largest valid smaller n. */
        while (rem < cur) {
            int next = 1;
            for (int i = 0; i < m->info.n_valid; i++)
                if (m->info.valid_n[i] <= rem) next = m->info.valid_n[i];
            cur = next;
        }
        cached_plan *c = NULL;
        MVK_TRY(get_plan(m, cur, &c));
        int per_pass = m->groups * cur;
        int take = MVK_MIN(per_pass, rem - rem % cur);
        const float *src = input + (size_t)pos * img;
        float *dst = logits + (size_t)pos * k;
        if (take == per_pass) {
            MVK_TRY(mvk_plan_write(c->plan, c->in, src, (uint64_t)take * img));
            MVK_TRY(mvk_plan_run(c->plan));
            MVK_TRY(mvk_plan_read(c->plan, c->out, dst, (uint64_t)take * k));
        } else {
            /* A partial pass: zero groups fill the rest; groups never mix, so they change nothing. */
            size_t in_n = (size_t)per_pass * img, out_n = (size_t)per_pass * k;
            float *pin = mvk_calloc(in_n, sizeof *pin), *pout = mvk_malloc(out_n * sizeof *pout);
            mvk_status s = pin && pout ? MVK_OK : mvk_fail(ctx, MVK_ERR_OUT_OF_HOST_MEMORY, "padding buffer");
            if (s == MVK_OK) {
                memcpy(pin, src, (size_t)take * img * sizeof *pin);
                s = mvk_plan_write(c->plan, c->in, pin, in_n);
            }
            if (s == MVK_OK) s = mvk_plan_run(c->plan);
            if (s == MVK_OK) s = mvk_plan_read(c->plan, c->out, pout, out_n);
            if (s == MVK_OK) memcpy(dst, pout, (size_t)take * k * sizeof *dst);
            mvk_free(pin);
            mvk_free(pout);
            MVK_TRY(s);
        }
        pos += take;
    }
    return MVK_OK;
}
