/* ADD, MUL, SCALE against the C reference, on sizes that are not multiples of the workgroup. */
#include "harness.h"

static const int64_t sizes[][4] = {{1, 1, 1, 1}, {3, 5, 7, 11}, {2, 64, 14, 14}, {1, 1, 1, 100003}};

static void check(mvk_op op, float scale) {
    for (size_t i = 0; i < MVK_ARRAY_LEN(sizes); i++) {
        mt_src src[MVK_MAX_SRC] = {0};
        src[0] = mt_shape(4, sizes[i][0], sizes[i][1], sizes[i][2], sizes[i][3]);
        if (op != MVK_OP_SCALE) src[1] = src[0];
        mvk_op_params p = mvk_op_default_params();
        p.scale = scale;
        mt_check_op(op, src, &p, 1e-6, 1e-6); /* exact up to rounding of one operation */
    }
}

static void test_add(void **s) { (void)s; check(MVK_OP_ADD, 1); }
static void test_mul(void **s) { (void)s; check(MVK_OP_MUL, 1); }
static void test_scale(void **s) { (void)s; check(MVK_OP_SCALE, -2.5f); }

static void test_shape_mismatch(void **s) {
    (void)s;
    mvk_ctx *ctx = mt_ctx(0);
    mvk_graph *g;
    assert_int_equal(mvk_graph_create(ctx, &g), MVK_OK);
    mvk_tensor_id a, b, out;
    int64_t ea[] = {2, 3}, eb[] = {3, 2};
    assert_int_equal(mvk_graph_input(g, "a", 2, ea, &a), MVK_OK);
    assert_int_equal(mvk_graph_input(g, "b", 2, eb, &b), MVK_OK);
    mvk_tensor_id src[MVK_MAX_SRC] = {a, b, -1, -1, -1, -1, -1, -1};
    assert_int_equal(mvk_graph_op(g, MVK_OP_ADD, src, NULL, &out), MVK_ERR_SHAPE);
    assert_non_null(strstr(mvk_ctx_error(ctx), "differ in shape"));
    mvk_graph_destroy(g);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_add),
        cmocka_unit_test(test_mul),
        cmocka_unit_test(test_scale),
        cmocka_unit_test(test_shape_mismatch),
    };
    return cmocka_run_group_tests(tests, mt_setup, mt_teardown);
}
