/* GLOBAL_AVGPOOL against the C reference on both kernel classes: pool sizes 1, odd, a multiple
 * of 4 (vec4 loads), larger than a workgroup, and 100003. */
#include "harness.h"

/* A mean of L values in [-1, 1] summed in fp32 (serial, vec4 or tree order) vs a double
 * reference: rounding walks ~sqrt(L) * ulp(partial sum) on the sum, < 1e-7 on the mean for
 * L = 100003; 1e-5 abs leaves a wide margin (a lost element moves the mean by up to 1/L). */
#define ATOL 1e-5
#define RTOL 1e-5

static void check(int ndim, int64_t a, int64_t b, int64_t c, int64_t d) {
    mt_src src[MVK_MAX_SRC] = {0};
    src[0] = mt_shape(ndim, a, b, c, d);
    mt_check_op(MVK_OP_GLOBAL_AVGPOOL, src, NULL, ATOL, RTOL);
}

static void test_shapes(void **s) {
    (void)s;
    check(4, 1, 1, 1, 1);      /* one pixel */
    check(4, 2, 3, 7, 7);      /* L = 49 */
    check(4, 3, 10, 8, 8);     /* L = 64: vec4 loads */
    check(4, 70, 3, 3, 1);     /* many rows (CPU workgroups of 8), L = 3 */
    check(4, 1, 2, 1, 100003); /* long rows */
    check(3, 2, 5, 1000, 1);      /* (N, C, L) */
}

static void test_bad_shapes(void **s) {
    (void)s;
    mvk_ctx *ctx = mt_ctx(MVK_KERNELS_CPU);
    mvk_graph *g;
    assert_int_equal(mvk_graph_create(ctx, &g), MVK_OK);
    mvk_tensor_id x, out;
    int64_t ex[] = {2, 3};
    assert_int_equal(mvk_graph_input(g, "x", 2, ex, &x), MVK_OK);
    mvk_tensor_id src[MVK_MAX_SRC] = {x, -1, -1, -1, -1, -1, -1, -1};
    assert_int_equal(mvk_graph_op(g, MVK_OP_GLOBAL_AVGPOOL, src, NULL, &out), MVK_ERR_SHAPE);
    assert_non_null(strstr(mvk_ctx_error(ctx), "(N, C, H, W)"));
    mvk_graph_destroy(g);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shapes),
        cmocka_unit_test(test_bad_shapes),
    };
    return cmocka_run_group_tests(tests, mt_setup, mt_teardown);
}
