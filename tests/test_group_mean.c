/* GROUP_MEAN against the C reference on both kernel classes, plus the divisibility errors. */
#include "harness.h"

/* A mean of r <= 8 fp32 values vs a double reference: a few ulp. */
#define ATOL 1e-6
#define RTOL 1e-6

static void check(int64_t g, int64_t r, int64_t n, int64_t f) {
    mt_src src[MVK_MAX_SRC] = {0};
    src[0] = mt_shape(2, g, r * n * f, 1, 1);
    mvk_op_params p = mvk_op_default_params();
    p.n = (int)n;
    p.groups = (int)r;
    mt_check_op(MVK_OP_GROUP_MEAN, src, &p, ATOL, RTOL);
}

static void test_shapes(void **s) {
    (void)s;
    check(1, 1, 1, 1);       /* identity on one value */
    check(3, 2, 4, 7);       /* F = 7: scalar path */
    check(2, 3, 2, 10);      /* r = 3, F = 10 */
    check(5, 4, 3, 64);      /* F % 4 == 0: vec4 path */
    check(1, 2, 1, 100003);  /* long F */
    check(130, 1, 2, 1);     /* many groups, r = 1 */
    /* A 4-D input: (G, r n C, H, W) with F = C H W. */
    mt_src src[MVK_MAX_SRC] = {0};
    src[0] = mt_shape(4, 2, 2 * 3 * 5, 3, 3);
    mvk_op_params p = mvk_op_default_params();
    p.n = 3;
    p.groups = 2;
    mt_check_op(MVK_OP_GROUP_MEAN, src, &p, ATOL, RTOL);
}

static void test_bad_shapes(void **s) {
    (void)s;
    mvk_ctx *ctx = mt_ctx(MVK_KERNELS_GPU);
    mvk_graph *g;
    assert_int_equal(mvk_graph_create(ctx, &g), MVK_OK);
    mvk_tensor_id x, out;
    int64_t ex[] = {2, 30};
    assert_int_equal(mvk_graph_input(g, "x", 2, ex, &x), MVK_OK);
    mvk_tensor_id src[MVK_MAX_SRC] = {x, -1, -1, -1, -1, -1, -1, -1};
    mvk_op_params p = mvk_op_default_params();
    p.n = 4;
    p.groups = 2;
    assert_int_equal(mvk_graph_op(g, MVK_OP_GROUP_MEAN, src, &p, &out), MVK_ERR_SHAPE);
    assert_non_null(strstr(mvk_ctx_error(ctx), "not a multiple of groups * n = 2 * 4"));
    p.n = -1;
    assert_int_equal(mvk_graph_op(g, MVK_OP_GROUP_MEAN, src, &p, &out), MVK_ERR_INVALID_ARG);
    mvk_graph_destroy(g);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shapes),
        cmocka_unit_test(test_bad_shapes),
    };
    return cmocka_run_group_tests(tests, mt_setup, mt_teardown);
}
