/* LINEAR against the C reference on both kernel classes: odd sizes (N = 1, F = 7, O = 3), every
 * load width of the CPU kernel (F % 8 == 0, F % 4 == 0, neither), every activation, with and
 * without bias, and leading batch dimensions. */
#include "harness.h"

/* Tolerance for fp32 dot products of length F <= 640 with |x|, |w| <= 1, summed in another
 * order than the double reference: error <= F * 2^-24 * sum|x w| ~ 1e-5; gelu's erf adds 1e-7. */
#define ATOL 1e-4
#define RTOL 1e-4

static void check(int64_t n, int64_t f, int64_t o, mvk_act act, bool bias) {
    mt_src src[MVK_MAX_SRC] = {0};
    src[MVK_SRC_X] = mt_shape(2, n, f, 1, 1);
    src[MVK_SRC_W] = mt_shape(2, o, f, 1, 1);
    if (bias) src[MVK_SRC_BIAS] = mt_shape(1, o, 1, 1, 1);
    if (act == MVK_ACT_PRELU || act == MVK_ACT_SRELU) src[MVK_SRC_ACT_PARAM] = mt_shape(1, o, 1, 1, 1);
    mvk_op_params p = mvk_op_default_params();
    p.act = act;
    mt_check_op(MVK_OP_LINEAR, src, &p, ATOL, RTOL);
}

static void test_tiny(void **s) {
    (void)s;
    check(1, 7, 3, MVK_ACT_NONE, true);  /* scalar loads, one row */
    check(1, 1, 1, MVK_ACT_RELU, false); /* 1 x 1 x 1 */
}

/* Every activation on few rows: small register blocks compile fast on lavapipe (a 16 x 16 block
 * takes 1-2 s of LLVM time per pipeline). */
static void test_acts(void **s) {
    (void)s;
    check(3, 12, 10, MVK_ACT_RELU, true);  /* vec4 loads, partial tiles */
    check(2, 24, 9, MVK_ACT_PRELU, true);  /* 64-bit loads */
    check(3, 16, 5, MVK_ACT_SRELU, false);
    check(2, 8, 6, MVK_ACT_GELU, true);
}

/* 16 x 16 register blocks (two pipelines: scalar and vec4 stores) with ragged edges. */
static void test_larger(void **s) {
    (void)s;
    check(33, 64, 17, MVK_ACT_NONE, true);
    check(64, 640, 130, MVK_ACT_NONE, true);
    check(300, 96, 64, MVK_ACT_NONE, true); /* several tiles in both directions */
}

static void test_batch_dims(void **s) {
    (void)s;
    mt_src src[MVK_MAX_SRC] = {0};
    src[MVK_SRC_X] = mt_shape(3, 2, 3, 8, 1); /* rows = 6 */
    src[MVK_SRC_W] = mt_shape(2, 5, 8, 1, 1);
    mvk_op_params p = mvk_op_default_params();
    mt_check_op(MVK_OP_LINEAR, src, &p, ATOL, RTOL);
}

/* Long F: llvmpipe ends loops after 65535 iterations per invocation, so F = 50001 (scalar loads,
 * one K step per element) must leave the CPU kernel for the shared-memory one, and an F no
 * kernel can loop over on a CPU device must be refused, not computed wrongly. */
static void test_long_f(void **s) {
    (void)s;
    /* fp32 sums of 50001 products of uniform [-1, 1] values: rounding walks ~sqrt(F) ulp of
     * partial sums ~ 100, i.e. ~1e-3 worst case; typical ~1e-4. */
    mt_src src[MVK_MAX_SRC] = {0};
    src[MVK_SRC_X] = mt_shape(2, 1, 50001, 1, 1);
    src[MVK_SRC_W] = mt_shape(2, 2, 50001, 1, 1);
    mvk_op_params p = mvk_op_default_params();
    mt_check_op(MVK_OP_LINEAR, src, &p, 2e-3, 1e-4);

    mvk_ctx *ctx = mt_ctx(MVK_KERNELS_CPU);
    if (mvk_ctx_device(ctx)->type != MVK_DEVICE_CPU) return;
    mvk_graph *g;
    assert_int_equal(mvk_graph_create(ctx, &g), MVK_OK);
    mvk_tensor_id src2[MVK_MAX_SRC] = {-1, -1, -1, -1, -1, -1, -1, -1}, out;
    int64_t ex[] = {1, 1000001}, ew[] = {1, 1000001};
    assert_int_equal(mvk_graph_input(g, "x", 2, ex, &src2[MVK_SRC_X]), MVK_OK);
    assert_int_equal(mvk_graph_input(g, "w", 2, ew, &src2[MVK_SRC_W]), MVK_OK);
    assert_int_equal(mvk_graph_op(g, MVK_OP_LINEAR, src2, NULL, &out), MVK_OK);
    mvk_plan *plan;
    assert_int_equal(mvk_plan_create(ctx, g, &plan), MVK_ERR_LIMIT);
    assert_non_null(strstr(mvk_ctx_error(ctx), "65535"));
    mvk_graph_destroy(g);
}

static mvk_status add_linear(mvk_ctx *ctx, int64_t f_x, int64_t f_w, int64_t o_bias, mvk_act act) {
    mvk_graph *g;
    assert_int_equal(mvk_graph_create(ctx, &g), MVK_OK);
    mvk_tensor_id src[MVK_MAX_SRC] = {-1, -1, -1, -1, -1, -1, -1, -1}, out;
    int64_t ex[] = {4, f_x}, ew[] = {6, f_w}, eb[] = {o_bias};
    assert_int_equal(mvk_graph_input(g, "x", 2, ex, &src[MVK_SRC_X]), MVK_OK);
    assert_int_equal(mvk_graph_input(g, "w", 2, ew, &src[MVK_SRC_W]), MVK_OK);
    assert_int_equal(mvk_graph_input(g, "b", 1, eb, &src[MVK_SRC_BIAS]), MVK_OK);
    mvk_op_params p = mvk_op_default_params();
    p.act = act;
    mvk_status st = mvk_graph_op(g, MVK_OP_LINEAR, src, &p, &out);
    mvk_graph_destroy(g);
    return st;
}

static void test_bad_shapes(void **s) {
    (void)s;
    mvk_ctx *ctx = mt_ctx(MVK_KERNELS_CPU);
    assert_int_equal(add_linear(ctx, 8, 9, 6, MVK_ACT_NONE), MVK_ERR_SHAPE);
    assert_non_null(strstr(mvk_ctx_error(ctx), "F = 8 features"));
    assert_int_equal(add_linear(ctx, 8, 8, 5, MVK_ACT_NONE), MVK_ERR_SHAPE);
    assert_non_null(strstr(mvk_ctx_error(ctx), "bias"));
    assert_int_equal(add_linear(ctx, 8, 8, 6, MVK_ACT_PRELU), MVK_ERR_INVALID_ARG);
    assert_non_null(strstr(mvk_ctx_error(ctx), "act_param"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tiny),
        cmocka_unit_test(test_acts),
        cmocka_unit_test(test_larger),
        cmocka_unit_test(test_batch_dims),
        cmocka_unit_test(test_long_f),
        cmocka_unit_test(test_bad_shapes),
    };
    return cmocka_run_group_tests(tests, mt_setup, mt_teardown);
}
