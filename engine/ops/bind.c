/* BIND: elementwise binding with per-index keys, bundled over groups of n consecutive rows.
 *
 *   x (G*n, D) keys (n, D) -> (G, D):  out[g] = s * sum_i keys[i] (.) x[g*n + i]
 *   mode 0: s = 1 (sum, MIMOFormer / MIMOConv bundling), mode 1: s = 1/n (mean, DataMUX).
 *
 * Bipolar (+-1) keys are self-inverse, so the same op with n = 1 unbinds. x may have more
 * dimensions, (G*n, ..., D): the middle ones are positions that share the keys, and the output
 * is (G, ..., D).
 */
#include "internal.h"

#include <stdio.h>
#include <string.h>

static mvk_status shape(const mvk_graph *g, const mvk_node *n, int *ndim, int64_t ne[4], char *msg,
                        size_t msgsz) {
    const mvk_tensor *x = mvk_graph_tensor(g, n->src[0]), *k = mvk_graph_tensor(g, n->src[1]);
    if (!x || !k)
        return snprintf(msg, msgsz, "needs x in slot 0 and the keys in slot 1"), MVK_ERR_INVALID_ARG;
    if (n->p.mode != 0 && n->p.mode != 1)
        return snprintf(msg, msgsz, "mode %d (0 sum, 1 mean)", n->p.mode), MVK_ERR_INVALID_ARG;
    if (n->p.n < 1)
        return snprintf(msg, msgsz, "n = %d inputs per group (at least 1)", n->p.n),
               MVK_ERR_INVALID_ARG;
    if (x->ndim < 2)
        return snprintf(msg, msgsz, "x %s needs at least 2 dimensions (rows, D)", x->name),
               MVK_ERR_SHAPE;
    int64_t d = x->ne[x->ndim - 1], rows = x->ne[0], nn = n->p.n;
    if (rows % nn)
        return snprintf(msg, msgsz, "x %s has %lld rows, not a multiple of n = %lld", x->name,
                        (long long)rows, (long long)nn),
               MVK_ERR_SHAPE;
    if (k->ne[k->ndim - 1] != d || mvk_tensor_numel(k) != nn * d)
        return snprintf(msg, msgsz, "the keys %s must be (n, D) = (%lld, %lld) for x %s, not %lld "
                        "elements with last dimension %lld",
                        k->name, (long long)nn, (long long)d, x->name,
                        (long long)mvk_tensor_numel(k), (long long)k->ne[k->ndim - 1]),
               MVK_ERR_SHAPE;
    if ((uint64_t)mvk_tensor_numel(x) > UINT32_MAX)
        return snprintf(msg, msgsz, "x %s is too large", x->name), MVK_ERR_LIMIT;
    *ndim = x->ndim;
    memcpy(ne, x->ne, sizeof x->ne);
    ne[0] = rows / nn;
    return MVK_OK;
}

static mvk_status record(mvk_rec *r, const mvk_node *n) {
    const mvk_graph *g = mvk_rec_graph(r);
    const mvk_tensor *x = mvk_graph_tensor(g, n->src[0]);
    uint64_t inner = (uint64_t)(mvk_tensor_numel(x) / x->ne[0]);
    uint64_t total = (uint64_t)mvk_tensor_numel(mvk_graph_tensor(g, n->dst));
    const uint32_t wg = 128;
    uint32_t spec[3] = {wg, 1, 1}, gx, gy;
    mvk_split_groups(mvk_rec_ctx(r), MVK_CEIL_DIV(total, wg), &gx, &gy);
    struct { uint32_t total, inner, n, d; float s; } push = {
        (uint32_t)total, (uint32_t)inner, (uint32_t)n->p.n, (uint32_t)x->ne[x->ndim - 1],
        n->p.mode == 1 ? 1.0f / (float)n->p.n : 1.0f};
    mvk_binding b[3] = {mvk_rec_tensor(r, n->src[0]), mvk_rec_tensor(r, n->src[1]),
                        mvk_rec_tensor(r, n->dst)};
    return mvk_rec_dispatch(r, MVK_SHADER_bind, spec, 3, b, 3, &push, sizeof push, gx, gy, 1);
}

static void ref(const mvk_node *n, const mvk_host_tensor *src, float *dst, const int64_t *dst_ne) {
    const mvk_host_tensor *x = &src[0];
    const float *keys = src[1].data;
    int64_t d = x->ne[x->ndim - 1];
    int64_t inner = x->ne[1] * x->ne[2] * x->ne[3];
    int64_t groups = dst_ne[0], nn = n->p.n;
    double s = n->p.mode == 1 ? 1.0 / (double)nn : 1.0;
    for (int64_t g = 0; g < groups; g++)
        for (int64_t q = 0; q < inner; q++) {
            double acc = 0;
            for (int64_t i = 0; i < nn; i++)
                acc += (double)keys[i * d + q % d] * (double)x->data[(g * nn + i) * inner + q];
            dst[g * inner + q] = (float)(acc * s);
        }
}

static double flops(const mvk_graph *g, const mvk_node *n) {
    return 2.0 * (double)mvk_tensor_numel(mvk_graph_tensor(g, n->src[0]));
}

const mvk_op_impl mvk_op_bind = {"bind", shape, NULL, record, ref, flops};
