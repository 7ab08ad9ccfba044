/* BIND: elementwise binding with per-index keys, bundled by sum or mean over groups of n rows. */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>

/* Runs BIND on x (rows, ..., D) with keys (n, D); keys bipolar (+-1) or Gaussian-like. */
static void check(int ndim, int64_t a, int64_t b, int64_t c, int n, int mode, int bipolar) {
    mt_src src[MVK_MAX_SRC] = {0};
    src[0] = mt_shape(ndim, a, b, c, 1);
    int64_t d = src[0].ne[ndim - 1];
    src[1] = mt_shape(2, n, d, 1, 1);
    float *keys = mt_random((size_t)(n * d), -1, 1);
    for (int64_t i = 0; i < n * d; i++) {
        if (bipolar) {
            keys[i] = keys[i] < 0 ? -1.0f : 1.0f;
        } else { /* a sum of three uniforms: roughly Gaussian, as DataMUX's keys */
            keys[i] += mt_uniform(-1, 1) + mt_uniform(-1, 1);
        }
    }
    src[1].data = keys;
    mvk_op_params p = mvk_op_default_params();
    p.n = n;
    p.mode = mode;
    double worst = mt_check_op(MVK_OP_BIND, src, &p, 1e-6, 1e-5);
    printf("bind n %d mode %d x (%lld, %lld, %lld)[:%d]: max err %.2e\n", n, mode, (long long)a,
           (long long)b, (long long)c, ndim, worst);
    free(keys);
}

static void test_shapes(void **state) {
    (void)state;
    for (int mode = 0; mode < 2; mode++) {
        check(2, 3, 5, 1, 1, mode, 1);     /* n = 1: plain elementwise binding (or unbinding) */
        check(2, 8, 7, 1, 2, mode, 1);     /* odd D */
        check(2, 15, 33, 1, 3, mode, 0);   /* odd D, Gaussian keys */
        check(2, 8, 64, 1, 4, mode, 1);
        check(2, 12, 129, 1, 4, mode, 0);
        check(3, 6, 10, 9, 2, mode, 1);    /* positions in the middle share the keys */
        check(2, 4 * 301, 200, 1, 4, mode, 0); /* more outputs than one dispatch row */
    }
}

/* Bipolar keys are self-inverse: binding twice with n = 1 gives x back exactly. */
static void test_unbind(void **state) {
    (void)state;
    const int64_t rows = 6, d = 50;
    float *x = mt_random((size_t)(rows * d), -1, 1), *k = mt_random((size_t)d, -1, 1);
    for (int64_t i = 0; i < d; i++) k[i] = k[i] < 0 ? -1.0f : 1.0f;
    mvk_ctx *ctx = mt_ctx(MVK_KERNELS_CPU);
    mvk_graph *g;
    assert_int_equal(mvk_graph_create(ctx, &g), MVK_OK);
    int64_t xe[2] = {rows, d}, ke[2] = {1, d};
    mvk_tensor_id xi, ki, bound, back;
    assert_int_equal(mvk_graph_input(g, "x", 2, xe, &xi), MVK_OK);
    assert_int_equal(mvk_graph_input(g, "key", 2, ke, &ki), MVK_OK);
    mvk_tensor_id src[MVK_MAX_SRC] = {xi, ki, -1, -1, -1, -1, -1, -1};
    assert_int_equal(mvk_graph_op(g, MVK_OP_BIND, src, NULL, &bound), MVK_OK);
    src[0] = bound;
    assert_int_equal(mvk_graph_op(g, MVK_OP_BIND, src, NULL, &back), MVK_OK);
    assert_int_equal(mvk_graph_output(g, back), MVK_OK);
    mvk_plan *plan;
    assert_int_equal(mvk_plan_create(ctx, g, &plan), MVK_OK);
    assert_int_equal(mvk_plan_write(plan, xi, x, (uint64_t)(rows * d)), MVK_OK);
    assert_int_equal(mvk_plan_write(plan, ki, k, (uint64_t)d), MVK_OK);
    assert_int_equal(mvk_plan_run(plan), MVK_OK);
    float got[6 * 50];
    assert_int_equal(mvk_plan_read(plan, back, got, (uint64_t)(rows * d)), MVK_OK);
    assert_memory_equal(got, x, sizeof got);
    mvk_plan_destroy(plan);
    mvk_graph_destroy(g);
    free(x);
    free(k);
    assert_int_equal(mt_validation_messages(), 0);
}

static void expect_error(int xn, const int64_t *xe, int kn, const int64_t *ke, int n, int mode,
                         mvk_status want, const char *text) {
    mvk_ctx *ctx = mt_ctx(0);
    mvk_graph *g;
    assert_int_equal(mvk_graph_create(ctx, &g), MVK_OK);
    mvk_tensor_id x, k, out;
    assert_int_equal(mvk_graph_input(g, "x", xn, xe, &x), MVK_OK);
    assert_int_equal(mvk_graph_input(g, "keys", kn, ke, &k), MVK_OK);
    mvk_op_params p = mvk_op_default_params();
    p.n = n;
    p.mode = mode;
    mvk_tensor_id src[MVK_MAX_SRC] = {x, k, -1, -1, -1, -1, -1, -1};
    assert_int_equal(mvk_graph_op(g, MVK_OP_BIND, src, &p, &out), want);
    if (!strstr(mvk_ctx_error(ctx), text))
        fail_msg("message \"%s\" lacks \"%s\"", mvk_ctx_error(ctx), text);
    mvk_graph_destroy(g);
}

static void test_errors(void **state) {
    (void)state;
    int64_t x[2] = {10, 8}, k4[2] = {4, 8}, k5[2] = {5, 8}, kd[2] = {5, 7}, x1[1] = {8};
    expect_error(2, x, 2, k4, 4, 0, MVK_ERR_SHAPE, "10 rows, not a multiple of n = 4");
    expect_error(2, x, 2, k4, 5, 0, MVK_ERR_SHAPE, "must be (n, D) = (5, 8)");
    expect_error(2, x, 2, kd, 5, 0, MVK_ERR_SHAPE, "last dimension 7");
    expect_error(2, x, 2, k5, 5, 3, MVK_ERR_INVALID_ARG, "mode 3");
    expect_error(2, x, 2, k5, -2, 0, MVK_ERR_INVALID_ARG, "n = -2");
    expect_error(1, x1, 2, k4, 1, 0, MVK_ERR_SHAPE, "at least 2 dimensions");
}

int main(int argc, char **argv) {
    if (argc > 1) cmocka_set_test_filter(argv[1]);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shapes),
        cmocka_unit_test(test_unbind),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, mt_setup, mt_teardown);
}
