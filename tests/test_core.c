/* The engine core: device choice, pipeline cache, memory planning, graph and plan errors,
 * limits, fault injection and profiling. */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

/* A chain of SCALE ops: y_k = 2 * y_{k-1}. */
static mvk_graph *scale_chain(mvk_ctx *ctx, int64_t n, int len, mvk_tensor_id *in, mvk_tensor_id *out) {
    mvk_graph *g;
    if (mvk_graph_create(ctx, &g) != MVK_OK) return NULL;
    mvk_tensor_id t;
    if (mvk_graph_input(g, "x", 1, &n, &t) != MVK_OK) goto fail;
    *in = t;
    for (int i = 0; i < len; i++) {
        mvk_tensor_id src[MVK_MAX_SRC] = {t, -1, -1, -1, -1, -1, -1, -1};
        mvk_op_params p = mvk_op_default_params();
        p.scale = 2.0f;
        if (mvk_graph_op(g, MVK_OP_SCALE, src, &p, &t) != MVK_OK) goto fail;
    }
    if (mvk_graph_output(g, t) != MVK_OK) goto fail;
    *out = t;
    return g;
fail:
    mvk_graph_destroy(g);
    return NULL;
}

static void test_device_info(void **s) {
    (void)s;
    const mvk_device_info *d = mvk_ctx_device(mt_ctx(0));
    assert_non_null(d);
    assert_true(strlen(d->name) > 0);
    assert_true(d->has_compute);
    assert_true(d->max_storage_buffer_range >= (128u << 20) || d->max_storage_buffer_range >= (1u << 27));
    mvk_device_info list[16];
    int n = 0;
    assert_int_equal(mvk_device_list(list, 16, &n), MVK_OK);
    assert_true(n >= 1);
    bool found = false;
    for (int i = 0; i < n && i < 16; i++) found = found || !strcmp(list[i].name, d->name);
    assert_true(found);
    assert_string_equal(mvk_ctx_kernel_class(mt_ctx(MVK_KERNELS_CPU)), "cpu");
    assert_string_equal(mvk_ctx_kernel_class(mt_ctx(MVK_KERNELS_GPU)), "gpu");
}

static void test_device_by_name(void **s) {
    (void)s;
    const mvk_device_info *d = mvk_ctx_device(mt_ctx(0));
    char part[8];
    snprintf(part, sizeof part, "%.5s", d->name);
    mvk_ctx_params p = mvk_ctx_default_params();
    p.device_name = part;
    mvk_ctx *ctx = NULL;
    assert_int_equal(mvk_ctx_create(&p, &ctx), MVK_OK);
    assert_string_equal(mvk_ctx_device(ctx)->name, d->name);
    mvk_ctx_destroy(ctx);

    p.device_name = "no-such-device-xyz";
    assert_int_equal(mvk_ctx_create(&p, &ctx), MVK_ERR_NO_DEVICE);
    assert_null(ctx);
    assert_non_null(strstr(mvk_ctx_error(NULL), "no-such-device-xyz"));

    p.device_name = NULL;
    p.device_index = 99;
    assert_int_equal(mvk_ctx_create(&p, &ctx), MVK_ERR_NO_DEVICE);
    assert_non_null(strstr(mvk_ctx_error(NULL), "99"));
}

static int cache_notices;
static void count_cache_log(void *user, mvk_log_level lvl, const char *msg) {
    (void)user;
    (void)lvl;
    if (strstr(msg, "ignoring pipeline cache")) cache_notices++;
}

static void run_chain(mvk_ctx *ctx) {
    mvk_tensor_id in = -1, out = -1;
    mvk_graph *g = scale_chain(ctx, 100, 2, &in, &out);
    assert_non_null(g);
    mvk_plan *plan;
    assert_int_equal(mvk_plan_create(ctx, g, &plan), MVK_OK);
    float x[100], y[100];
    for (int i = 0; i < 100; i++) x[i] = (float)i;
    assert_int_equal(mvk_plan_write(plan, in, x, 100), MVK_OK);
    assert_int_equal(mvk_plan_run(plan), MVK_OK);
    assert_int_equal(mvk_plan_read(plan, out, y, 100), MVK_OK);
    for (int i = 0; i < 100; i++) assert_float_equal(y[i], 4.0f * i, 0);
    mvk_plan_destroy(plan);
    mvk_graph_destroy(g);
}

static void test_pipeline_cache(void **s) {
    (void)s;
    char dir[] = "/tmp/mvk-cache-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char *old = getenv("XDG_CACHE_HOME") ? strdup(getenv("XDG_CACHE_HOME")) : NULL;
    setenv("XDG_CACHE_HOME", dir, 1);
    mvk_ctx_params p = mvk_ctx_default_params();
    p.log = count_cache_log;
    p.log_level = MVK_LOG_DEBUG;
    mvk_ctx *ctx;
    assert_int_equal(mvk_ctx_create(&p, &ctx), MVK_OK);
    run_chain(ctx);
    char path[1200];
    snprintf(path, sizeof path, "%s/mimovk/pipelines-%04x-%04x.bin", dir,
             mvk_ctx_device(ctx)->vendor_id, mvk_ctx_device(ctx)->device_id);
    mvk_ctx_destroy(ctx);
    struct stat st;
    assert_int_equal(stat(path, &st), 0); /* saved on destroy */
    assert_true(st.st_size > 8);

    /* A good cache is used without a notice. */
    cache_notices = 0;
    assert_int_equal(mvk_ctx_create(&p, &ctx), MVK_OK);
    run_chain(ctx);
    mvk_ctx_destroy(ctx);
    assert_int_equal(cache_notices, 0);

    /* A foreign or corrupt file is ignored with a log line, never trusted. */
    const char *junk[] = {"garbage", "MVKPIPE1 but then the header is short"};
    for (size_t i = 0; i < MVK_ARRAY_LEN(junk); i++) {
        FILE *f = fopen(path, "wb");
        assert_non_null(f);
        fputs(junk[i], f);
        fclose(f);
        cache_notices = 0;
        assert_int_equal(mvk_ctx_create(&p, &ctx), MVK_OK);
        run_chain(ctx);
        mvk_ctx_destroy(ctx);
        assert_int_equal(cache_notices, 1);
    }
    /* A flipped byte in the payload fails the checksum. */
    FILE *f = fopen(path, "r+b");
    assert_non_null(f);
    fseek(f, -1, SEEK_END);
    int c = fgetc(f);
    fseek(f, -1, SEEK_END);
    fputc(c ^ 0x5a, f);
    fclose(f);
    cache_notices = 0;
    assert_int_equal(mvk_ctx_create(&p, &ctx), MVK_OK);
    mvk_ctx_destroy(ctx);
    assert_int_equal(cache_notices, 1);

    if (old) setenv("XDG_CACHE_HOME", old, 1);
    else unsetenv("XDG_CACHE_HOME");
    free(old);
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

static void test_arena_reuse(void **s) {
    (void)s;
    mvk_ctx *ctx = mt_ctx(0);
    const int64_t n = 1 << 18; /* 1 MiB per tensor */
    mvk_tensor_id in = -1, out = -1;
    mvk_graph *g = scale_chain(ctx, n, 12, &in, &out);
    assert_non_null(g);
    mvk_plan *plan;
    assert_int_equal(mvk_plan_create(ctx, g, &plan), MVK_OK);
    /* 13 tensors of 1 MiB live two at a time: the arena must reuse memory. */
    assert_true(mvk_plan_memory(plan) <= 3 * (uint64_t)n * 4);
    float *x = mt_random((size_t)n, -1, 1), *y = malloc((size_t)n * 4);
    assert_int_equal(mvk_plan_write(plan, in, x, (uint64_t)n), MVK_OK);
    assert_int_equal(mvk_plan_run(plan), MVK_OK);
    assert_int_equal(mvk_plan_read(plan, out, y, (uint64_t)n), MVK_OK);
    for (int64_t i = 0; i < n; i++) assert_float_equal(y[i], 4096.0f * x[i], 0);
    free(x);
    free(y);
    mvk_plan_destroy(plan);
    mvk_graph_destroy(g);
}

static void test_graph_errors(void **s) {
    (void)s;
    mvk_ctx *ctx = mt_ctx(0);
    mvk_graph *g;
    assert_int_equal(mvk_graph_create(ctx, &g), MVK_OK);
    mvk_tensor_id x, v;
    int64_t ne[] = {2, 3, 4};
    assert_int_equal(mvk_graph_input(g, "x", 3, ne, &x), MVK_OK);
    int64_t bad[] = {5, 5};
    assert_int_equal(mvk_graph_view(g, x, 2, bad, &v), MVK_ERR_SHAPE);
    assert_non_null(strstr(mvk_ctx_error(ctx), "24"));
    int64_t zero[] = {0, 3};
    assert_int_equal(mvk_graph_input(g, "z", 2, zero, &v), MVK_ERR_SHAPE);
    assert_int_equal(mvk_graph_input(g, "z", 5, ne, &v), MVK_ERR_INVALID_ARG);
    mvk_tensor_id src[MVK_MAX_SRC] = {42, -1, -1, -1, -1, -1, -1, -1};
    assert_int_equal(mvk_graph_op(g, MVK_OP_SCALE, src, NULL, &v), MVK_ERR_INVALID_ARG);
    assert_int_equal(mvk_graph_op(g, (mvk_op)999, src, NULL, &v), MVK_ERR_INVALID_ARG);
    src[0] = x;
    mvk_tensor_id y;
    assert_int_equal(mvk_graph_op(g, MVK_OP_SCALE, src, NULL, &y), MVK_OK);
    assert_int_equal(mvk_graph_output(g, y), MVK_OK);
    mvk_plan *plan;
    assert_int_equal(mvk_plan_create(ctx, g, &plan), MVK_OK);
    float buf[24] = {0};
    assert_int_equal(mvk_plan_write(plan, y, buf, 24), MVK_ERR_INVALID_ARG);  /* not an input */
    assert_int_equal(mvk_plan_write(plan, x, buf, 23), MVK_ERR_INVALID_ARG);  /* wrong count */
    assert_non_null(strstr(mvk_ctx_error(ctx), "24 elements"));
    assert_int_equal(mvk_plan_read(plan, x, buf, 24), MVK_ERR_INVALID_ARG);   /* not an output */
    mvk_plan_destroy(plan);
    mvk_graph_destroy(g);
}

static void test_storage_range_limit(void **s) {
    (void)s;
    mvk_ctx *ctx = mt_ctx(0);
    uint64_t range = mvk_ctx_device(ctx)->max_storage_buffer_range;
    if (range > (1ull << 31)) skip(); /* too large to provoke here */
    mvk_tensor_id in = -1, out = -1;
    mvk_graph *g = scale_chain(ctx, (int64_t)(range / 4 + 1), 1, &in, &out);
    assert_non_null(g);
    mvk_plan *plan = NULL;
    assert_int_equal(mvk_plan_create(ctx, g, &plan), MVK_ERR_LIMIT);
    assert_null(plan);
    assert_non_null(strstr(mvk_ctx_error(ctx), "maxStorageBufferRange"));
    mvk_graph_destroy(g);
}

/* Every k-th failure of each kind, while building and running a small plan, returns a status
 * and leaves the context usable. */
static void test_fault_injection(void **s) {
    (void)s;
    mvk_ctx *ctx = mt_ctx(0);
    const mvk_fault kinds[] = {MVK_FAULT_HOST_ALLOC, MVK_FAULT_DEVICE_ALLOC, MVK_FAULT_PIPELINE,
                               MVK_FAULT_DEVICE_LOST};
    for (size_t f = 0; f < MVK_ARRAY_LEN(kinds); f++) {
        int failures = 0;
        for (uint64_t k = 1; k < 200; k++) {
            /* Fresh contexts each time: the pipeline must not already be cached. */
            mvk_ctx_params p = mvk_ctx_default_params();
            p.pipeline_cache = 0;
            mvk_ctx *c = NULL;
            mvk_fault_arm(kinds[f], k);
            mvk_status st = mvk_ctx_create(&p, &c);
            mvk_graph *g = NULL;
            mvk_plan *plan = NULL;
            mvk_tensor_id in = -1, out = -1;
            if (st == MVK_OK) {
                g = scale_chain(c, 64, 3, &in, &out);
                st = g ? mvk_plan_create(c, g, &plan) : MVK_ERR_OUT_OF_HOST_MEMORY;
            }
            if (st == MVK_OK) st = mvk_plan_run(plan);
            bool fired = mvk_fault_count(kinds[f]) >= k;
            mvk_fault_arm(kinds[f], 0);
            if (fired) {
                assert_int_not_equal(st, MVK_OK);
                failures++;
            } else {
                assert_int_equal(st, MVK_OK);
            }
            mvk_plan_destroy(plan);
            mvk_graph_destroy(g);
            mvk_ctx_destroy(c);
            if (!fired) break; /* k went past the last event of this kind */
        }
        assert_true(failures >= 1);
    }
    (void)ctx;
    run_chain(mt_ctx(0)); /* the shared context still works */
}

static void test_profile(void **s) {
    (void)s;
    mvk_ctx_params p = mvk_ctx_default_params();
    p.profile = 1;
    p.log_level = MVK_LOG_WARN;
    mvk_ctx *ctx;
    assert_int_equal(mvk_ctx_create(&p, &ctx), MVK_OK);
    if (!mvk_ctx_device(ctx)->timestamps) {
        mvk_ctx_destroy(ctx);
        skip();
    }
    mvk_tensor_id in = -1, out = -1;
    mvk_graph *g = scale_chain(ctx, 1000, 3, &in, &out);
    mvk_plan *plan;
    assert_int_equal(mvk_plan_create(ctx, g, &plan), MVK_OK);
    float x[1000] = {0};
    assert_int_equal(mvk_plan_write(plan, in, x, 1000), MVK_OK);
    assert_int_equal(mvk_plan_run(plan), MVK_OK);
    assert_int_equal(mvk_plan_node_count(plan), 3);
    for (int i = 0; i < 3; i++) assert_true(mvk_plan_node_ms(plan, i) >= 0);
    mvk_plan_destroy(plan);
    mvk_graph_destroy(g);
    mvk_ctx_destroy(ctx);
}

static void test_status_names(void **s) {
    (void)s;
    for (int i = 0; i < MVK_STATUS_COUNT; i++) assert_true(strlen(mvk_status_str((mvk_status)i)) > 0);
    assert_string_equal(mvk_status_str(MVK_STATUS_COUNT), "unknown status");
    for (int i = 0; i < MVK_OP_COUNT; i++) assert_string_not_equal(mvk_op_str((mvk_op)i), "?");
    for (int i = 0; i < MVK_ACT_COUNT; i++)
        assert_int_equal(mvk_act_parse(mvk_act_str((mvk_act)i)), i);
    assert_int_equal(mvk_act_parse("swish"), MVK_ACT_COUNT);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_status_names),
        cmocka_unit_test(test_device_info),
        cmocka_unit_test(test_device_by_name),
        cmocka_unit_test(test_pipeline_cache),
        cmocka_unit_test(test_arena_reuse),
        cmocka_unit_test(test_graph_errors),
        cmocka_unit_test(test_storage_range_limit),
        cmocka_unit_test(test_fault_injection),
        cmocka_unit_test(test_profile),
    };
    return cmocka_run_group_tests(tests, mt_setup, mt_teardown);
}
