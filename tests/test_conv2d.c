/* CONV2D against the C reference on both kernel classes: kernel sizes 1x1/3x3/5x5, stride 1
 * and 2, sizes that are multiples of no tile, every fused prologue/epilogue option. */
#include "harness.h"
#include "ops/conv2d.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

/* Tolerances (fp32): the kernels accumulate K = Ci*kh*kw products of values in [-1, 1] in a
 * different order than the double-precision reference; rounding grows like sqrt(K) * 2^-24 * |sum|
 * and stays below 1e-5 for K <= 1000, so 1e-4 absolute + 1e-4 relative leaves a 10x margin. */
#define ATOL 1e-4
#define RTOL 1e-4

typedef struct conv_case {
    int64_t n, ci, h, w, co;
    int k, stride, pad;
    bool bias, pre_affine, residual;
    mvk_act pre_act, act;
    float scale;
} conv_case;

static double run_case(const conv_case *c) {
    mt_src src[MVK_MAX_SRC] = {0};
    src[MVK_SRC_X] = mt_shape(4, c->n, c->ci, c->h, c->w);
    src[MVK_SRC_W] = mt_shape(4, c->co, c->ci, c->k, c->k);
    if (c->bias) src[MVK_SRC_BIAS] = mt_shape(1, c->co, 1, 1, 1);
    if (c->pre_affine) {
        src[MVK_SRC_PRE_SCALE] = mt_shape(1, c->ci, 1, 1, 1);
        src[MVK_SRC_PRE_SHIFT] = mt_shape(1, c->ci, 1, 1, 1);
    }
    if (c->pre_act == MVK_ACT_PRELU || c->pre_act == MVK_ACT_SRELU)
        src[MVK_SRC_PRE_PARAM] = mt_shape(1, c->ci, 1, 1, 1);
    if (c->act == MVK_ACT_PRELU || c->act == MVK_ACT_SRELU)
        src[MVK_SRC_ACT_PARAM] = mt_shape(1, c->co, 1, 1, 1);
    int64_t ho = (c->h + 2 * c->pad - c->k) / c->stride + 1;
    int64_t wo = (c->w + 2 * c->pad - c->k) / c->stride + 1;
    if (c->residual) src[MVK_SRC_RESIDUAL] = mt_shape(4, c->n, c->co, ho, wo);
    mvk_op_params p = mvk_op_default_params();
    p.stride = c->stride;
    p.pad = c->pad;
    p.pre_act = c->pre_act;
    p.act = c->act;
    p.scale = c->scale;
    return mt_check_op(MVK_OP_CONV2D, src, &p, ATOL, RTOL);
}

static void run_cases(const conv_case *cases, size_t count) {
    for (size_t i = 0; i < count; i++) run_case(&cases[i]);
}

/* Plain convolutions: no fusion. */
static void test_conv3x3_stride1(void **s) {
    (void)s;
    const conv_case cases[] = {
        {.n = 3, .ci = 3, .h = 7, .w = 9, .co = 5, .k = 3, .stride = 1, .pad = 1},
        {.n = 2, .ci = 8, .h = 14, .w = 14, .co = 16, .k = 3, .stride = 1, .pad = 1},
        {.n = 1, .ci = 20, .h = 5, .w = 6, .co = 13, .k = 3, .stride = 1, .pad = 0},
        {.n = 2, .ci = 4, .h = 11, .w = 3, .co = 33, .k = 3, .stride = 1, .pad = 1},
    };
    run_cases(cases, MVK_ARRAY_LEN(cases));
}

static void test_conv3x3_stride2(void **s) {
    (void)s;
    const conv_case cases[] = {
        {.n = 3, .ci = 3, .h = 7, .w = 9, .co = 5, .k = 3, .stride = 2, .pad = 1},
        {.n = 2, .ci = 16, .h = 14, .w = 14, .co = 24, .k = 3, .stride = 2, .pad = 1},
        {.n = 1, .ci = 12, .h = 8, .w = 9, .co = 7, .k = 3, .stride = 2, .pad = 0},
    };
    run_cases(cases, MVK_ARRAY_LEN(cases));
}

static void test_conv1x1(void **s) {
    (void)s;
    const conv_case cases[] = {
        /* flat path with vec4 input loads (H*W % 4 == 0) */
        {.n = 3, .ci = 8, .h = 4, .w = 5, .co = 5, .k = 1, .stride = 1},
        {.n = 2, .ci = 16, .h = 14, .w = 14, .co = 20, .k = 1, .stride = 1},
        /* flat path, scalar loads (H*W odd), and Ci not a multiple of 4 */
        {.n = 3, .ci = 3, .h = 7, .w = 9, .co = 5, .k = 1, .stride = 1},
        {.n = 2, .ci = 12, .h = 7, .w = 7, .co = 9, .k = 1, .stride = 1},
        /* stride 2 (shortcut convs) and padding */
        {.n = 3, .ci = 8, .h = 7, .w = 9, .co = 5, .k = 1, .stride = 2},
        {.n = 2, .ci = 16, .h = 14, .w = 14, .co = 12, .k = 1, .stride = 2},
        {.n = 1, .ci = 5, .h = 3, .w = 4, .co = 6, .k = 1, .stride = 1, .pad = 1},
    };
    run_cases(cases, MVK_ARRAY_LEN(cases));
}

static void test_conv5x5(void **s) {
    (void)s;
    const conv_case cases[] = {
        {.n = 3, .ci = 3, .h = 7, .w = 9, .co = 5, .k = 5, .stride = 1, .pad = 2},
        {.n = 2, .ci = 8, .h = 12, .w = 10, .co = 10, .k = 5, .stride = 2, .pad = 2},
        {.n = 1, .ci = 4, .h = 6, .w = 5, .co = 3, .k = 5, .stride = 1, .pad = 0},
    };
    run_cases(cases, MVK_ARRAY_LEN(cases));
}

/* The prologue with every activation, with and without the affine part, each on one of three
 * shapes in turn (strides 1 and 2, padding 1): padding must stay 0 (PyTorch pads the activated
 * tensor), which srelu/gelu of a shift would break. */
static void test_prologue(void **s) {
    (void)s;
    const int64_t shapes[][5] = {{3, 3, 7, 9, 5}, {2, 8, 6, 6, 12}, {1, 12, 5, 3, 4}};
    int i = 0;
    for (int a = MVK_ACT_NONE; a < MVK_ACT_COUNT; a++)
        for (int affine = 0; affine < 2; affine++) {
            if (a == MVK_ACT_NONE && !affine) continue;
            const int64_t *sh = shapes[i % 3];
            conv_case c = {.n = sh[0], .ci = sh[1], .h = sh[2], .w = sh[3], .co = sh[4], .k = 3,
                           .stride = i % 2 + 1, .pad = 1, .pre_affine = affine,
                           .pre_act = (mvk_act)a};
            run_case(&c);
            i++;
        }
}

/* The epilogue: bias, every activation with its parameter, scaled residual; shapes in turn. */
static void test_epilogue(void **s) {
    (void)s;
    const int64_t shapes[][5] = {{3, 3, 7, 9, 5}, {2, 8, 6, 6, 12}, {1, 12, 5, 3, 4}};
    for (int a = MVK_ACT_NONE; a < MVK_ACT_COUNT; a++) {
        const int64_t *sh = shapes[a % 3];
        conv_case c = {.n = sh[0], .ci = sh[1], .h = sh[2], .w = sh[3], .co = sh[4],
                       .k = a % 3 == 2 ? 1 : 3, .stride = 1, .pad = a % 3 == 2 ? 0 : 1,
                       .bias = a != MVK_ACT_RELU, .act = (mvk_act)a, .residual = a % 2 == 0,
                       .scale = a == MVK_ACT_GELU ? 0.5f : 1.0f};
        run_case(&c);
    }
    /* Residual without bias or activation, scale 0 meaning 1. */
    conv_case c = {.n = 2, .ci = 4, .h = 5, .w = 6, .co = 7, .k = 3, .stride = 2, .pad = 1,
                   .residual = true, .scale = 0.0f};
    run_case(&c);
}

/* Everything at once, as in a MIMONet block: affine+prelu in, bias+prelu out, residual
 * (output rows of 9, 14, 64 (flattened 1x1) and 12: stores of 1, 2, 8 and 4 outputs). */
static void test_fused_all(void **s) {
    (void)s;
    const conv_case cases[] = {
        {.n = 3, .ci = 8, .h = 7, .w = 9, .co = 5, .k = 3, .stride = 1, .pad = 1, .bias = true,
         .pre_affine = true, .residual = true, .pre_act = MVK_ACT_PRELU, .act = MVK_ACT_PRELU,
         .scale = 0.25f},
        {.n = 2, .ci = 16, .h = 14, .w = 14, .co = 16, .k = 3, .stride = 1, .pad = 1,
         .bias = true, .pre_affine = true, .residual = true, .pre_act = MVK_ACT_SRELU,
         .act = MVK_ACT_SRELU, .scale = 2.0f},
        {.n = 1, .ci = 4, .h = 8, .w = 8, .co = 9, .k = 1, .stride = 1, .bias = true,
         .pre_affine = true, .residual = true, .pre_act = MVK_ACT_GELU, .act = MVK_ACT_RELU,
         .scale = 1.0f},
        /* rows of 12: 4-wide stores and residual loads */
        {.n = 2, .ci = 8, .h = 12, .w = 12, .co = 6, .k = 3, .stride = 1, .pad = 1, .bias = true,
         .residual = true, .act = MVK_ACT_PRELU, .scale = 0.5f},
    };
    run_cases(cases, MVK_ARRAY_LEN(cases));
}

/* WideResNet-like sizes at batch 1, where the tuned tiles are used. */
static void test_wrn_shapes(void **s) {
    (void)s;
    const conv_case cases[] = {
        {.n = 1, .ci = 64, .h = 28, .w = 28, .co = 64, .k = 3, .stride = 1, .pad = 1},
        {.n = 2, .ci = 64, .h = 14, .w = 14, .co = 128, .k = 3, .stride = 2, .pad = 1},
        {.n = 1, .ci = 128, .h = 7, .w = 7, .co = 128, .k = 3, .stride = 1, .pad = 1},
    };
    run_cases(cases, MVK_ARRAY_LEN(cases));
}

/* Prologue vectors in different buffers (a weight buffer and graph inputs) are packed into one
 * binding before the conv; checked against the reference by hand. */
static void test_prologue_mixed_buffers(void **s) {
    (void)s;
    const int64_t n = 2, ci = 8, h = 6, w = 7, co = 5;
    float *x = mt_random((size_t)(n * ci * h * w), -1, 1);
    float *wt = mt_random((size_t)(co * ci * 9), -1, 1);
    float *ps = mt_random((size_t)ci, 0.5f, 1.5f), *pt = mt_random((size_t)ci, -0.5f, 0.5f);
    float *pp = mt_random((size_t)ci, 0, 0.5f);
    int64_t ho = h, wo = w;
    float *want = malloc((size_t)(n * co * ho * wo) * sizeof *want);
    float *got = malloc((size_t)(n * co * ho * wo) * sizeof *got);
    assert_non_null(want);
    assert_non_null(got);
    mvk_conv_desc d = {.n = n, .ci = ci, .h = h, .w = w, .co = co, .ho = ho, .wo = wo, .kh = 3,
                       .kw = 3, .stride = 1, .pad = 1, .pre_act = MVK_ACT_PRELU,
                       .act = MVK_ACT_NONE, .scale = 1};
    const float *hs[MVK_MAX_SRC] = {x, wt, NULL, ps, pt, pp, NULL, NULL};
    mvk_conv_ref(&d, hs, want);
    for (int k = 0; k < 2; k++) {
        mvk_ctx *ctx = mt_ctx(k);
        mvk_buffer *buf;
        uint64_t al = mvk_buffer_alignment(ctx);
        assert_int_equal(mvk_buffer_create(ctx, 2 * al + 4096, &buf), MVK_OK);
        assert_int_equal(mvk_buffer_upload(buf, al, ps, (uint64_t)ci * 4), MVK_OK);
        mvk_graph *g;
        assert_int_equal(mvk_graph_create(ctx, &g), MVK_OK);
        int64_t ex[] = {n, ci, h, w}, ew[] = {co, ci, 3, 3}, ev[] = {ci};
        mvk_tensor_id tx, tw, tps, tpt, tpp, out;
        assert_int_equal(mvk_graph_input(g, "x", 4, ex, &tx), MVK_OK);
        assert_int_equal(mvk_graph_input(g, "w", 4, ew, &tw), MVK_OK);
        assert_int_equal(mvk_graph_weight(g, "pre_scale", 1, ev, buf, al, &tps), MVK_OK);
        assert_int_equal(mvk_graph_input(g, "pre_shift", 1, ev, &tpt), MVK_OK);
        assert_int_equal(mvk_graph_input(g, "pre_param", 1, ev, &tpp), MVK_OK);
        mvk_tensor_id src[MVK_MAX_SRC] = {tx, tw, -1, tps, tpt, tpp, -1, -1};
        mvk_op_params p = mvk_op_default_params();
        p.pad = 1;
        p.pre_act = MVK_ACT_PRELU;
        assert_int_equal(mvk_graph_op(g, MVK_OP_CONV2D, src, &p, &out), MVK_OK);
        assert_int_equal(mvk_graph_output(g, out), MVK_OK);
        mvk_plan *plan;
        assert_int_equal(mvk_plan_create(ctx, g, &plan), MVK_OK);
        assert_int_equal(mvk_plan_write(plan, tx, x, (uint64_t)(n * ci * h * w)), MVK_OK);
        assert_int_equal(mvk_plan_write(plan, tw, wt, (uint64_t)(co * ci * 9)), MVK_OK);
        assert_int_equal(mvk_plan_write(plan, tpt, pt, (uint64_t)ci), MVK_OK);
        assert_int_equal(mvk_plan_write(plan, tpp, pp, (uint64_t)ci), MVK_OK);
        /* Twice: the packed copy is refreshed on every run. */
        for (int run = 0; run < 2; run++) {
            assert_int_equal(mvk_plan_run(plan), MVK_OK);
            assert_int_equal(mvk_plan_read(plan, out, got, (uint64_t)(n * co * ho * wo)), MVK_OK);
            for (int64_t i = 0; i < n * co * ho * wo; i++)
                assert_true(fabs(got[i] - want[i]) <= ATOL + RTOL * fabs(want[i]));
        }
        mvk_plan_destroy(plan);
        mvk_graph_destroy(g);
        mvk_buffer_destroy(buf);
        assert_int_equal(mt_validation_messages(), 0);
    }
    free(x), free(wt), free(ps), free(pt), free(pp), free(want), free(got);
}

/* The batch is a push constant: a second batch size reuses every pipeline. */
static void test_batch_shares_pipelines(void **s) {
    (void)s;
    conv_case c = {.n = 1, .ci = 8, .h = 6, .w = 6, .co = 12, .k = 3, .stride = 1, .pad = 1,
                   .bias = true, .act = MVK_ACT_RELU};
    run_case(&c);
    uint64_t before[2] = {mvk_ctx_pipelines_created(mt_ctx(0)), mvk_ctx_pipelines_created(mt_ctx(1))};
    c.n = 3;
    run_case(&c);
    assert_int_equal(mvk_ctx_pipelines_created(mt_ctx(0)), before[0]);
    assert_int_equal(mvk_ctx_pipelines_created(mt_ctx(1)), before[1]);
}

static void test_errors(void **s) {
    (void)s;
    mvk_ctx *ctx = mt_ctx(MVK_KERNELS_CPU);
    mvk_graph *g;
    assert_int_equal(mvk_graph_create(ctx, &g), MVK_OK);
    int64_t ex[] = {2, 3, 8, 8}, ew[] = {4, 5, 3, 3}, ew2[] = {4, 3, 3, 3}, eb[] = {5};
    mvk_tensor_id x, w, w2, b, out;
    assert_int_equal(mvk_graph_input(g, "x", 4, ex, &x), MVK_OK);
    assert_int_equal(mvk_graph_input(g, "w", 4, ew, &w), MVK_OK);
    assert_int_equal(mvk_graph_input(g, "w2", 4, ew2, &w2), MVK_OK);
    assert_int_equal(mvk_graph_input(g, "b", 1, eb, &b), MVK_OK);
    mvk_tensor_id src[MVK_MAX_SRC] = {x, w, -1, -1, -1, -1, -1, -1};
    assert_int_equal(mvk_graph_op(g, MVK_OP_CONV2D, src, NULL, &out), MVK_ERR_SHAPE);
    src[MVK_SRC_W] = w2;
    src[MVK_SRC_BIAS] = b; /* 5 != Co = 4 */
    assert_int_equal(mvk_graph_op(g, MVK_OP_CONV2D, src, NULL, &out), MVK_ERR_SHAPE);
    assert_non_null(strstr(mvk_ctx_error(ctx), "bias"));
    src[MVK_SRC_BIAS] = -1;
    mvk_op_params p = mvk_op_default_params();
    p.pre_act = MVK_ACT_PRELU; /* without pre_param */
    assert_int_equal(mvk_graph_op(g, MVK_OP_CONV2D, src, &p, &out), MVK_ERR_INVALID_ARG);
    assert_non_null(strstr(mvk_ctx_error(ctx), "pre_param"));
    p = mvk_op_default_params();
    p.pad = -1;
    assert_int_equal(mvk_graph_op(g, MVK_OP_CONV2D, src, &p, &out), MVK_ERR_INVALID_ARG);
    assert_int_equal(mvk_graph_op(g, MVK_OP_CONV2D, src, NULL, &out), MVK_OK);
    int64_t ne[4];
    assert_int_equal(mvk_graph_shape(g, out, ne), 4);
    assert_true(ne[0] == 2 && ne[1] == 4 && ne[2] == 6 && ne[3] == 6);
    assert_true(fabs(mvk_graph_flops(g) - 2.0 * 2 * 4 * 36 * 27) < 1e-6);
    mvk_graph_destroy(g);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conv3x3_stride1), cmocka_unit_test(test_conv3x3_stride2),
        cmocka_unit_test(test_conv1x1),         cmocka_unit_test(test_conv5x5),
        cmocka_unit_test(test_prologue),        cmocka_unit_test(test_epilogue),
        cmocka_unit_test(test_fused_all),       cmocka_unit_test(test_wrn_shapes),
        cmocka_unit_test(test_prologue_mixed_buffers),
        cmocka_unit_test(test_batch_shares_pipelines),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, mt_setup, mt_teardown);
}
