/* The model loader: a tiny MIMOConv-shaped model written here byte by byte runs and matches a
 * plain-C forward pass at every n (tail groups included), and every class of malformed file
 * gives its own status and a message naming the problem. */
#include "harness.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "tiny_model.h"

static char path[256];

static int setup(void **state) {
    tiny_init();
    /* MIMOVK_SEED_OUT=FILE writes the tiny model there (the fuzzers' seed corpus). */
    if (getenv("MIMOVK_SEED_OUT")) tiny_write(getenv("MIMOVK_SEED_OUT"), V_OK);
    snprintf(path, sizeof path, "/tmp/mvk-loader-%ld.safetensors", (long)getpid());
    return mt_setup(state);
}

static int teardown(void **state) {
    remove(path);
    return mt_teardown(state);
}

static void test_runs_and_matches(void **s) {
    (void)s;
    mvk_ctx *ctx = mt_ctx(MVK_KERNELS_CPU);
    tiny_write(path, V_OK);
    mvk_model *m;
    mvk_status st = mvk_model_load(ctx, path, &m);
    if (st != MVK_OK) fail_msg("load: %s", mvk_ctx_error(ctx));
    const mvk_model_info *info = mvk_model_get_info(m);
    assert_int_equal(info->capacity, 2);
    assert_int_equal(info->n_valid, 2);
    assert_int_equal(info->num_classes, 3);
    assert_string_equal(info->labels[2], "c");
    assert_true(info->flops_per_image[1] < info->flops_per_image[0]);
    enum { B = 7 };
    float *x = mt_random(B * 16, -1, 1), got[B * 3], want[B * 3];
    for (int n = 1; n <= 2; n++) {
        for (int groups = 1; groups <= 4; groups += 3) {
            assert_int_equal(mvk_model_set_groups(m, groups), MVK_OK);
            assert_int_equal(mvk_model_run(m, n, x, B, got), MVK_OK);
            /* 7 images at n = 2: three pairs, then the 7th alone at n = 1. */
            tiny_reference(x, B - B % n, n, want);
            if (B % n) tiny_reference(x + (B - 1) * 16, 1, 1, want + (B - 1) * 3);
            for (int i = 0; i < B * 3; i++) assert_float_equal(got[i], want[i], 1e-4);
        }
    }
    assert_int_equal(mvk_model_run(m, 3, x, B, got), MVK_ERR_BAD_N);
    assert_non_null(strstr(mvk_ctx_error(ctx), "does not divide the capacity 2"));
    assert_int_equal(mvk_model_run(m, 1, x, 0, got), MVK_OK);
    assert_int_equal(mvk_model_run(m, 1, NULL, 3, got), MVK_ERR_INVALID_ARG);
    free(x);
    mvk_model_destroy(m);
}

/* Switching n reuses cached plans: no new pipelines after the first use of each n. */
static void test_switch_n_no_new_pipelines(void **s) {
    (void)s;
    mvk_ctx *ctx = mt_ctx(MVK_KERNELS_CPU);
    tiny_write(path, V_OK);
    mvk_model *m;
    assert_int_equal(mvk_model_load(ctx, path, &m), MVK_OK);
    float *x = mt_random(8 * 16, -1, 1), y[8 * 3];
    assert_int_equal(mvk_model_run(m, 1, x, 8, y), MVK_OK);
    assert_int_equal(mvk_model_run(m, 2, x, 8, y), MVK_OK);
    uint64_t before = mvk_ctx_pipelines_created(ctx);
    for (int i = 0; i < 6; i++) assert_int_equal(mvk_model_run(m, 1 + i % 2, x, 8, y), MVK_OK);
    assert_int_equal(mvk_ctx_pipelines_created(ctx), before);
    free(x);
    mvk_model_destroy(m);
}

static const struct {
    tiny_variant v;
    mvk_status status;
    const char *needle;
} bad[] = {
    {V_EMPTY, MVK_ERR_FORMAT, "empty"},
    {V_TRUNCATED, MVK_ERR_FORMAT, "past the end"},
    {V_LYING_HLEN, MVK_ERR_FORMAT, "header length"},
    {V_BAD_JSON, MVK_ERR_FORMAT, "not valid JSON"},
    {V_NOT_MIMOVK, MVK_ERR_FORMAT, "not a mimovk model file"},
    {V_BAD_GRAPH_JSON, MVK_ERR_FORMAT, "__metadata__.mimovk is not valid JSON"},
    {V_UNKNOWN_OP, MVK_ERR_FORMAT, "unknown op \"conv3d\""},
    {V_MISSING_TENSOR, MVK_ERR_FORMAT, "\"fc.bias2\""},
    {V_UNKNOWN_INPUT, MVK_ERR_FORMAT, "input \"nope\""},
    {V_WRONG_SHAPE, MVK_ERR_SHAPE, "fc.w"},
    {V_WRONG_DTYPE, MVK_ERR_FORMAT, "dtype F64"},
    {V_UNKNOWN_DTYPE, MVK_ERR_FORMAT, "unknown dtype \"Q7\""},
    {V_OFFSET_PAST_END, MVK_ERR_FORMAT, "fc.b: data_offsets end"},
    {V_OVERLAP, MVK_ERR_FORMAT, "overlap"},
    {V_SIZE_MISMATCH, MVK_ERR_FORMAT, "conv.b: shape and dtype"},
    {V_ABSURD_DIMS, MVK_ERR_FORMAT, "conv.w"},
    {V_MISSING_SUPERPOSE_N, MVK_ERR_FORMAT, "no superpose weights for n = 2"},
    {V_BAD_CAPACITY, MVK_ERR_FORMAT, "capacity 3"},
};

static void test_malformed(void **s) {
    (void)s;
    mvk_ctx *ctx = mt_ctx(MVK_KERNELS_CPU);
    for (size_t i = 0; i < MVK_ARRAY_LEN(bad); i++) {
        tiny_write(path, bad[i].v);
        mvk_model *m = NULL;
        mvk_status st = mvk_model_load(ctx, path, &m);
        const char *msg = mvk_ctx_error(ctx);
        if (st != bad[i].status || !strstr(msg, bad[i].needle))
            fail_msg("variant %d: got %s \"%s\", want %s containing \"%s\"", (int)bad[i].v, mvk_status_str(st), msg,
                     mvk_status_str(bad[i].status), bad[i].needle);
        assert_null(m);
    }
    mvk_model *m = NULL;
    assert_int_equal(mvk_model_load(ctx, "/nonexistent/model.safetensors", &m), MVK_ERR_IO);
    assert_non_null(strstr(mvk_ctx_error(ctx), "/nonexistent/model.safetensors"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_runs_and_matches),
        cmocka_unit_test(test_switch_n_no_new_pipelines),
        cmocka_unit_test(test_malformed),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
