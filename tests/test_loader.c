/* The model loader: a tiny MIMOConv-shaped model written here byte by byte runs and matches a
 * plain-C forward pass at every n (tail groups included), and every class of malformed file
 * gives its own status and a message naming the problem. */
#include "harness.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* Tiny model: 1x4x4 input, conv 1->2 (3x3, pad 1, bias, relu), superpose (capacity 2),
 * global average pool, unbind linear 2->4 + relu, unsuperpose, fc 2->3. */
enum { CONV_W, CONV_B, SUP1, SUP2, UNB_W, UNB_B, FC_W, FC_B, NT };
static const char *names[NT] = {"conv.w", "conv.b", "sup.1", "sup.2", "unbind.w", "unbind.b", "fc.w", "fc.b"};
static const int64_t shapes[NT][4] = {{2, 1, 3, 3}, {2}, {2, 2}, {2, 4}, {4, 2}, {4}, {3, 2}, {3}};
static const int ndims[NT] = {4, 1, 2, 2, 2, 1, 2, 1};
static float weights[NT][18];

static int64_t count_of(int t) {
    int64_t n = 1;
    for (int d = 0; d < ndims[t]; d++) n *= shapes[t][d];
    return n;
}

typedef enum {
    V_OK, V_EMPTY, V_TRUNCATED, V_LYING_HLEN, V_BAD_JSON, V_NOT_MIMOVK, V_BAD_GRAPH_JSON, V_UNKNOWN_OP,
    V_MISSING_TENSOR, V_UNKNOWN_INPUT, V_WRONG_SHAPE, V_WRONG_DTYPE, V_UNKNOWN_DTYPE, V_OFFSET_PAST_END,
    V_OVERLAP, V_SIZE_MISMATCH, V_ABSURD_DIMS, V_MISSING_SUPERPOSE_N, V_BAD_CAPACITY, V_COUNT
} variant;

static const char *graph_json(variant v) {
    static char buf[4096];
    const char *op2 = v == V_UNKNOWN_OP ? "conv3d" : "superpose";
    const char *fcb = v == V_MISSING_TENSOR ? "fc.bias2" : "fc.b";
    const char *in3 = v == V_UNKNOWN_INPUT ? "nope" : "p";
    const char *sup = v == V_MISSING_SUPERPOSE_N ? "{\\\"1\\\": \\\"sup.1\\\"}"
                                                   : "{\\\"1\\\": \\\"sup.1\\\", \\\"2\\\": \\\"sup.2\\\"}";
    snprintf(buf, sizeof buf,
             "{\\\"format_version\\\": 1, \\\"family\\\": \\\"mimoconv\\\", \\\"name\\\": \\\"tiny\\\", "
             "\\\"capacity\\\": %s, "
             "\\\"input\\\": {\\\"channels\\\": 1, \\\"height\\\": 4, \\\"width\\\": 4, \\\"mean\\\": [0.5], "
             "\\\"std\\\": [0.25], \\\"labels\\\": [\\\"a\\\", \\\"b\\\", \\\"c\\\"]}, "
             "\\\"nodes\\\": ["
             "{\\\"op\\\": \\\"conv2d\\\", \\\"inputs\\\": [\\\"input\\\"], \\\"output\\\": \\\"a\\\", "
             "\\\"weight\\\": \\\"conv.w\\\", \\\"bias\\\": \\\"conv.b\\\", \\\"stride\\\": 1, \\\"pad\\\": 1, "
             "\\\"act\\\": \\\"relu\\\"}, "
             "{\\\"op\\\": \\\"%s\\\", \\\"inputs\\\": [\\\"a\\\"], \\\"output\\\": \\\"s\\\", \\\"weights\\\": %s}, "
             "{\\\"op\\\": \\\"global_avgpool\\\", \\\"inputs\\\": [\\\"s\\\"], \\\"output\\\": \\\"p\\\"}, "
             "{\\\"op\\\": \\\"linear\\\", \\\"inputs\\\": [\\\"%s\\\"], \\\"output\\\": \\\"u\\\", "
             "\\\"weight\\\": \\\"unbind.w\\\", \\\"bias\\\": \\\"unbind.b\\\", \\\"act\\\": \\\"relu\\\"}, "
             "{\\\"op\\\": \\\"unsuperpose\\\", \\\"inputs\\\": [\\\"u\\\"], \\\"output\\\": \\\"v\\\"}, "
             "{\\\"op\\\": \\\"linear\\\", \\\"inputs\\\": [\\\"v\\\"], \\\"output\\\": \\\"logits\\\", "
             "\\\"weight\\\": \\\"fc.w\\\", \\\"bias\\\": \\\"%s\\\"}], "
             "\\\"output\\\": \\\"logits\\\"}%s",
             v == V_BAD_CAPACITY ? "3" : "2", op2, sup, in3, fcb, v == V_BAD_GRAPH_JSON ? "}}" : "");
    return buf;
}

/* Writes the model (or a broken variant) to path. */
static void write_model(const char *path, variant v) {
    char hdr[8192];
    size_t k = 0;
    k += (size_t)snprintf(hdr + k, sizeof hdr - k, "{");
    uint64_t off = 0;
    for (int t = 0; t < NT; t++) {
        int64_t n = count_of(t);
        const char *dtype = "F32";
        int64_t shape0 = shapes[t][0];
        uint64_t bytes = (uint64_t)n * 4, begin = off, end = off + bytes;
        if (t == FC_W && v == V_WRONG_SHAPE) shape0 = 1; /* (1, 2): fc gives 1 class, not 3 */
        if (t == FC_W && v == V_WRONG_SHAPE) end = begin + 8;
        if (t == UNB_B && v == V_WRONG_DTYPE) dtype = "F64", end = begin + (uint64_t)n * 8;
        if (t == UNB_B && v == V_UNKNOWN_DTYPE) dtype = "Q7";
        if (t == FC_B && v == V_OFFSET_PAST_END) end = begin + 4000, begin = begin + 4000 - bytes;
        if (t == FC_B && v == V_OVERLAP) begin -= 4, end -= 4;
        if (t == CONV_B && v == V_SIZE_MISMATCH) end += 4;
        k += (size_t)snprintf(hdr + k, sizeof hdr - k, "\"%s\": {\"dtype\": \"%s\", \"shape\": [", names[t], dtype);
        for (int d = 0; d < ndims[t]; d++) {
            if (t == CONV_W && d == 0 && v == V_ABSURD_DIMS)
                k += (size_t)snprintf(hdr + k, sizeof hdr - k, "%s1000000000000", d ? ", " : "");
            else
                k += (size_t)snprintf(hdr + k, sizeof hdr - k, "%s%lld", d ? ", " : "",
                                      (long long)(d == 0 ? shape0 : shapes[t][d]));
        }
        k += (size_t)snprintf(hdr + k, sizeof hdr - k, "], \"data_offsets\": [%llu, %llu]}, ",
                              (unsigned long long)begin, (unsigned long long)end);
        off += (t == UNB_B && v == V_WRONG_DTYPE) ? (uint64_t)n * 8 : bytes;
    }
    if (v == V_NOT_MIMOVK)
        k += (size_t)snprintf(hdr + k, sizeof hdr - k, "\"__metadata__\": {\"format\": \"pt\"}}");
    else
        k += (size_t)snprintf(hdr + k, sizeof hdr - k, "\"__metadata__\": {\"format\": \"mimovk\", \"mimovk\": \"%s\"}}",
                              graph_json(v));
    if (v == V_BAD_JSON) hdr[0] = '['; /* an array cannot hold "name": value pairs */
    while (k % 8) hdr[k++] = ' ';
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    if (v != V_EMPTY) {
        uint64_t hlen = v == V_LYING_HLEN ? (uint64_t)k + 1000000 : (uint64_t)k;
        for (int i = 0; i < 8; i++) fputc((int)((hlen >> (8 * i)) & 0xff), f);
        fwrite(hdr, 1, k, f);
        for (int t = 0; t < NT; t++) {
            if (t == UNB_B && v == V_WRONG_DTYPE) {
                double d[4] = {0};
                fwrite(d, 8, 4, f);
            } else {
                int64_t n = count_of(t);
                if (v == V_TRUNCATED && t == FC_W) n = 2; /* the file ends early */
                fwrite(weights[t], 4, (size_t)n, f);
                if (v == V_TRUNCATED && t == FC_W) break;
            }
        }
    }
    fclose(f);
}

static void init_weights(void) {
    mt_seed(7);
    for (int t = 0; t < NT; t++)
        for (int i = 0; i < count_of(t); i++) weights[t][i] = mt_uniform(-1, 1);
}

/* The model in plain C: logits for `count` images at n per superposition (count % n == 0). */
static void reference(const float *x, int count, int n, float *logits) {
    const float *cw = weights[CONV_W], *cb = weights[CONV_B], *A = n == 1 ? weights[SUP1] : weights[SUP2];
    int r = 2 / n;
    for (int g = 0; g < count / n; g++) {
        double pooled[2] = {0, 0};
        for (int o = 0; o < 2; o++)
            for (int p = 0; p < 16; p++) {
                double s = 0;
                for (int i = 0; i < n; i++)
                    for (int c = 0; c < 2; c++) {
                        const float *img = x + (size_t)(g * n + i) * 16;
                        int y = p / 4, xx = p % 4;
                        double a = cb[c];
                        for (int ky = 0; ky < 3; ky++)
                            for (int kx = 0; kx < 3; kx++) {
                                int iy = y + ky - 1, ix = xx + kx - 1;
                                if (iy >= 0 && iy < 4 && ix >= 0 && ix < 4) a += cw[c * 9 + ky * 3 + kx] * img[iy * 4 + ix];
                            }
                        s += A[o * 2 * n + i * 2 + c] * (a > 0 ? a : 0);
                    }
                pooled[o] += s / 16;
            }
        double u[4];
        for (int j = 0; j < 4; j++) {
            double a = weights[UNB_B][j];
            for (int c = 0; c < 2; c++) a += weights[UNB_W][j * 2 + c] * pooled[c];
            u[j] = a > 0 ? a : 0;
        }
        for (int i = 0; i < n; i++)
            for (int kk = 0; kk < 3; kk++) {
                double l = weights[FC_B][kk];
                for (int f = 0; f < 2; f++) {
                    double v = 0;
                    for (int rho = 0; rho < r; rho++) v += u[(rho * n + i) * 2 + f];
                    l += weights[FC_W][kk * 2 + f] * v / r;
                }
                logits[(g * n + i) * 3 + kk] = (float)l;
            }
    }
}

static char path[256];

static int setup(void **state) {
    init_weights();
    /* MIMOVK_SEED_OUT=FILE writes the tiny model there (the fuzzers' seed corpus). */
    if (getenv("MIMOVK_SEED_OUT")) write_model(getenv("MIMOVK_SEED_OUT"), V_OK);
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
    write_model(path, V_OK);
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
            reference(x, B - B % n, n, want);
            if (B % n) reference(x + (B - 1) * 16, 1, 1, want + (B - 1) * 3);
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
    write_model(path, V_OK);
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
    variant v;
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
        write_model(path, bad[i].v);
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
