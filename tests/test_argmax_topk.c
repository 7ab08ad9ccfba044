/* ARGMAX and TOPK over the last axis against the C reference on both kernel classes: rows of
 * length 1, 3, 10, 12 (vec4), 1000 and 100003, ranks 1 to 4, ties, and shape errors. Indices
 * must match exactly (atol = rtol = 0): both sides apply the same order, value descending then
 * index ascending, so even equal random values have one right answer. */
#include "harness.h"

#include <math.h>
#include <stdlib.h>

static void check(mvk_op op, int ndim, int64_t a, int64_t b, int64_t c, int64_t d, int k,
                  const float *data) {
    mt_src src[MVK_MAX_SRC] = {0};
    src[0] = mt_shape(ndim, a, b, c, d);
    src[0].data = data;
    mvk_op_params p = mvk_op_default_params();
    p.k = k;
    mt_check_op(op, src, &p, 0, 0);
}

static const struct { int ndim; int64_t ne[4]; int k; } shapes[] = {
    {1, {1, 1, 1, 1}, 1},      /* a single value */
    {2, {7, 1, 1, 1}, 1},      /* rows of length 1 */
    {2, {5, 3, 1, 1}, 3},      /* length 3, full sort */
    {3, {2, 3, 10, 1}, 4},     /* rank 3 */
    {4, {2, 2, 3, 12}, 5},     /* rank 4, vec4 path */
    {2, {130, 10, 1, 1}, 2},   /* many rows */
    {2, {3, 1000, 1, 1}, 10},  /* length 1000 */
    {2, {2, 100003, 1, 1}, 5}, /* long rows: workgroup-per-row kernel on both classes */
};

static void test_argmax(void **s) {
    (void)s;
    for (size_t i = 0; i < MVK_ARRAY_LEN(shapes); i++)
        check(MVK_OP_ARGMAX, shapes[i].ndim, shapes[i].ne[0], shapes[i].ne[1], shapes[i].ne[2],
              shapes[i].ne[3], 1, NULL);
}

static void test_topk(void **s) {
    (void)s;
    for (size_t i = 0; i < MVK_ARRAY_LEN(shapes); i++)
        check(MVK_OP_TOPK, shapes[i].ndim, shapes[i].ne[0], shapes[i].ne[1], shapes[i].ne[2],
              shapes[i].ne[3], shapes[i].k, NULL);
}

/* Few distinct values (ties everywhere), including rows of -inf: the first maximum wins, top-k
 * lists equal values by index. */
static void test_ties(void **s) {
    (void)s;
    enum { ROWS = 6, LEN = 40 };
    float *x = malloc(ROWS * LEN * sizeof *x);
    assert_non_null(x);
    for (int i = 0; i < ROWS * LEN; i++) x[i] = (float)((int)mt_uniform(0, 4));
    for (int j = 0; j < LEN; j++) x[5 * LEN + j] = -INFINITY;
    for (int k = 1; k <= LEN; k += 13) check(MVK_OP_TOPK, 2, ROWS, LEN, 1, 1, k, x);
    check(MVK_OP_ARGMAX, 2, ROWS, LEN, 1, 1, 1, x);
    check(MVK_OP_ARGMAX, 2, ROWS * 4, LEN / 4, 1, 1, 1, x); /* length 10 */
    free(x);
}

static void test_bad_shapes(void **s) {
    (void)s;
    mvk_ctx *ctx = mt_ctx(MVK_KERNELS_CPU);
    mvk_graph *g;
    assert_int_equal(mvk_graph_create(ctx, &g), MVK_OK);
    mvk_tensor_id x, out;
    int64_t ex[] = {4, 10};
    assert_int_equal(mvk_graph_input(g, "x", 2, ex, &x), MVK_OK);
    mvk_tensor_id src[MVK_MAX_SRC] = {x, -1, -1, -1, -1, -1, -1, -1};
    mvk_op_params p = mvk_op_default_params();
    p.k = 11;
    assert_int_equal(mvk_graph_op(g, MVK_OP_TOPK, src, &p, &out), MVK_ERR_SHAPE);
    assert_non_null(strstr(mvk_ctx_error(ctx), "k = 11 is larger than D = 10"));
    p.k = 0;
    assert_int_equal(mvk_graph_op(g, MVK_OP_TOPK, src, &p, &out), MVK_ERR_INVALID_ARG);
    mvk_graph_destroy(g);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_argmax),
        cmocka_unit_test(test_topk),
        cmocka_unit_test(test_ties),
        cmocka_unit_test(test_bad_shapes),
    };
    return cmocka_run_group_tests(tests, mt_setup, mt_teardown);
}
