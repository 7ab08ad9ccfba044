/* AFFINE_ACT against the C reference on both kernel classes: scalar and vec4 paths, sizes that
 * are not multiples of the workgroup, optional scale/shift, every activation. */
#include "harness.h"

/* One multiply-add and one activation in fp32: the device may fuse scale*x+shift (one rounding
 * less) and gelu's erf approximation is good to 1.2e-7, so a few ulp of |x| ~ 1. */
#define ATOL 2e-6
#define RTOL 2e-6

static void check(int ndim, int64_t a, int64_t b, int64_t c, int64_t d, mvk_act act, bool scale,
                  bool shift) {
    mt_src src[MVK_MAX_SRC] = {0};
    src[0] = mt_shape(ndim, a, b, c, d);
    int64_t ch = ndim >= 2 ? b : 1;
    if (scale) src[1] = mt_shape(1, ch, 1, 1, 1);
    if (shift) src[2] = mt_shape(1, ch, 1, 1, 1);
    if (act == MVK_ACT_PRELU || act == MVK_ACT_SRELU) src[3] = mt_shape(1, ch, 1, 1, 1);
    mvk_op_params p = mvk_op_default_params();
    p.act = act;
    mt_check_op(MVK_OP_AFFINE_ACT, src, &p, ATOL, RTOL);
}

static void test_shapes(void **s) {
    (void)s;
    check(2, 1, 1, 1, 1, MVK_ACT_RELU, true, true);          /* one element */
    check(2, 7, 10, 1, 1, MVK_ACT_RELU, true, true);         /* ndim 2: channel is dim 1 */
    check(4, 2, 3, 5, 7, MVK_ACT_RELU, true, true);          /* inner 35: scalar path */
    check(4, 3, 16, 6, 6, MVK_ACT_RELU, true, true);         /* inner 36: vec4 path */
    check(4, 1, 3, 1, 100003, MVK_ACT_RELU, true, true);     /* long rows, ragged last group */
    check(3, 1, 2, 100004, 1, MVK_ACT_RELU, true, true);     /* long rows, vec4 */
}

static void test_acts(void **s) {
    (void)s;
    for (int a = 0; a < MVK_ACT_COUNT; a++) {
        check(4, 2, 5, 3, 3, (mvk_act)a, true, true);
        check(4, 2, 5, 4, 4, (mvk_act)a, a % 2 == 0, a % 2 == 1); /* one of scale/shift */
    }
    check(3, 4, 6, 9, 1, MVK_ACT_NONE, false, false); /* identity */
}

static void test_bad_shapes(void **s) {
    (void)s;
    mvk_ctx *ctx = mt_ctx(MVK_KERNELS_GPU);
    mvk_graph *g;
    assert_int_equal(mvk_graph_create(ctx, &g), MVK_OK);
    mvk_tensor_id x, sc, out;
    int64_t ex[] = {2, 3, 4, 4}, es[] = {4};
    assert_int_equal(mvk_graph_input(g, "x", 4, ex, &x), MVK_OK);
    assert_int_equal(mvk_graph_input(g, "scale", 1, es, &sc), MVK_OK);
    mvk_tensor_id src[MVK_MAX_SRC] = {x, sc, -1, -1, -1, -1, -1, -1};
    assert_int_equal(mvk_graph_op(g, MVK_OP_AFFINE_ACT, src, NULL, &out), MVK_ERR_SHAPE);
    assert_non_null(strstr(mvk_ctx_error(ctx), "C = 3 channels"));
    mvk_graph_destroy(g);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shapes),
        cmocka_unit_test(test_acts),
        cmocka_unit_test(test_bad_shapes),
    };
    return cmocka_run_group_tests(tests, mt_setup, mt_teardown);
}
