/* LAYERNORM over the last axis against the C (double) reference on both kernel classes: rows of
 * length 1, 3, 10, 12 (vec4), 1000 and 100003, optional gamma/beta, eps, and shape errors. */
#include "harness.h"

/* Outputs are O(1) (normalised, times gamma in [-1, 1]); fp32 mean and variance of up to 1e5
 * values are good to ~1e-6 relative, inversesqrt to 2 ulp: 2e-5 absolute and relative. */
#define ATOL 2e-5
#define RTOL 2e-5

static void check(int ndim, int64_t a, int64_t b, int64_t c, int64_t d, bool gamma, bool beta,
                  float eps) {
    mt_src src[MVK_MAX_SRC] = {0};
    src[0] = mt_shape(ndim, a, b, c, d);
    int64_t len = src[0].ne[ndim - 1];
    if (gamma) src[1] = mt_shape(1, len, 1, 1, 1);
    if (beta) src[2] = mt_shape(1, len, 1, 1, 1);
    mvk_op_params p = mvk_op_default_params();
    p.eps = eps;
    mt_check_op(MVK_OP_LAYERNORM, src, &p, ATOL, RTOL);
}

static void test_shapes(void **s) {
    (void)s;
    check(2, 7, 1, 1, 1, true, true, 1e-5f);      /* length 1: beta */
    check(2, 5, 3, 1, 1, true, true, 1e-5f);      /* length 3 */
    check(3, 2, 3, 10, 1, true, false, 1e-5f);    /* rank 3, gamma only */
    check(4, 2, 2, 3, 12, false, true, 1e-3f);    /* rank 4, vec4 path, beta only */
    check(2, 130, 10, 1, 1, false, false, 1e-5f); /* many rows, no affine */
    check(2, 3, 1000, 1, 1, true, true, 1e-5f);   /* length 1000 */
    check(1, 100003, 1, 1, 1, true, true, 1e-5f); /* one long row */
}

static void test_bad_shapes(void **s) {
    (void)s;
    mvk_ctx *ctx = mt_ctx(MVK_KERNELS_CPU);
    mvk_graph *g;
    assert_int_equal(mvk_graph_create(ctx, &g), MVK_OK);
    mvk_tensor_id x, gamma, out;
    int64_t ex[] = {4, 10}, eg[] = {4};
    assert_int_equal(mvk_graph_input(g, "x", 2, ex, &x), MVK_OK);
    assert_int_equal(mvk_graph_input(g, "gamma", 1, eg, &gamma), MVK_OK);
    mvk_tensor_id src[MVK_MAX_SRC] = {x, gamma, -1, -1, -1, -1, -1, -1};
    assert_int_equal(mvk_graph_op(g, MVK_OP_LAYERNORM, src, NULL, &out), MVK_ERR_SHAPE);
    assert_non_null(strstr(mvk_ctx_error(ctx), "D = 10"));
    mvk_graph_destroy(g);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shapes),
        cmocka_unit_test(test_bad_shapes),
    };
    return cmocka_run_group_tests(tests, mt_setup, mt_teardown);
}
