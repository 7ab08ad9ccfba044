/* SUPERPOSE against its definition on both kernel classes: n = 1..4, channel counts and image
 * sizes that are multiples of no tile, and the error for a batch that n does not divide. */
#include "harness.h"

/* Tolerance (fp32): sums of n*C <= 64 products of values in [-1, 1], accumulated in another
 * order than the double reference: rounding stays below 1e-5, so 1e-4 abs + 1e-4 rel. */
#define ATOL 1e-4
#define RTOL 1e-4

static void check(int64_t b, int64_t c, int64_t h, int64_t w, int n) {
    mt_src src[MVK_MAX_SRC] = {0};
    src[0] = mt_shape(4, b, c, h, w);
    src[1] = mt_shape(2, c, n * c, 1, 1);
    mvk_op_params p = mvk_op_default_params();
    p.n = n;
    mt_check_op(MVK_OP_SUPERPOSE, src, &p, ATOL, RTOL);
}

static void test_superpose_shapes(void **s) {
    (void)s;
    check(4, 3, 5, 7, 2);   /* odd sizes: scalar path, Ci = 6 */
    check(6, 8, 4, 4, 3);   /* H*W = 16: vector loads */
    check(8, 16, 7, 7, 4);  /* H*W = 49 */
    check(3, 5, 3, 3, 1);   /* n = 1: a plain channel mix */
    check(4, 12, 14, 14, 2);
}

static void test_superpose_errors(void **s) {
    (void)s;
    mvk_ctx *ctx = mt_ctx(MVK_KERNELS_CPU);
    mvk_graph *g;
    assert_int_equal(mvk_graph_create(ctx, &g), MVK_OK);
    int64_t ex[] = {6, 4, 5, 5}, ea[] = {4, 16}, ea2[] = {4, 12};
    mvk_tensor_id x, a, a2, out;
    assert_int_equal(mvk_graph_input(g, "x", 4, ex, &x), MVK_OK);
    assert_int_equal(mvk_graph_input(g, "a", 2, ea, &a), MVK_OK);
    assert_int_equal(mvk_graph_input(g, "a2", 2, ea2, &a2), MVK_OK);
    mvk_tensor_id src[MVK_MAX_SRC] = {x, a, -1, -1, -1, -1, -1, -1};
    mvk_op_params p = mvk_op_default_params();
    p.n = 4; /* 6 % 4 != 0 */
    assert_int_equal(mvk_graph_op(g, MVK_OP_SUPERPOSE, src, &p, &out), MVK_ERR_SHAPE);
    assert_non_null(strstr(mvk_ctx_error(ctx), "not a multiple of n"));
    p.n = 3; /* a must be (4, 12) */
    assert_int_equal(mvk_graph_op(g, MVK_OP_SUPERPOSE, src, &p, &out), MVK_ERR_SHAPE);
    src[1] = a2;
    assert_int_equal(mvk_graph_op(g, MVK_OP_SUPERPOSE, src, &p, &out), MVK_OK);
    int64_t ne[4];
    assert_int_equal(mvk_graph_shape(g, out, ne), 4);
    assert_true(ne[0] == 2 && ne[1] == 4 && ne[2] == 5 && ne[3] == 5);
    assert_true(mvk_graph_flops(g) == 2.0 * 2 * 4 * 12 * 25);
    mvk_graph_destroy(g);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_superpose_shapes),
        cmocka_unit_test(test_superpose_errors),
    };
    return cmocka_run_group_tests(tests, mt_setup, mt_teardown);
}
