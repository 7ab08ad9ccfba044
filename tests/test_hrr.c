/* HRR (circular convolution / correlation over the channel axis) and the VkFFT binding under it.
 *
 * The project's bar for HRR is a max error of 1e-5 relative to max |ref| for both paths, against
 * a reference computed in double; every op check below asserts exactly that (atol = 1e-5 max|ref|,
 * rtol 0) and prints the error it measured. */
#include "harness.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#define HRR_TOL 1e-5

static const int64_t dims[] = {16, 64, 100, 640};

/* ---- the FFT binding on its own ---------------------------------------------------------- */

/* R2C of `batches` rows against a double DFT, then C2R back to the input; offsets non-zero. */
static void check_fft(mvk_ctx *ctx, uint32_t d, uint64_t batches) {
    uint64_t f = d / 2 + 1, align = mvk_buffer_alignment(ctx);
    uint64_t roff = align, rbytes = batches * d * 4;
    uint64_t coff = (roff + rbytes + align - 1) / align * align + align, cbytes = batches * f * 8;
    mvk_mem m;
    assert_int_equal(mvk_mem_alloc(ctx, coff + cbytes + align, MVK_MEM_STAGING, &m), MVK_OK);
    float *in = mt_random(batches * d, -1, 1);
    float *real = (float *)((char *)m.map + roff), *cplx = (float *)((char *)m.map + coff);
    memcpy(real, in, rbytes);
    mvk_fft *fft;
    mvk_status s = mvk_fft_create(ctx, d, batches, (mvk_binding){m.buffer, roff, rbytes},
                                  (mvk_binding){m.buffer, coff, cbytes}, &fft);
    if (s != MVK_OK) fail_msg("mvk_fft_create: %s", mvk_ctx_error(ctx));
    VkCommandBuffer cb;
    assert_int_equal(mvk_oneoff_begin(ctx, &cb), MVK_OK);
    s = mvk_fft_record(fft, cb, -1);
    if (s != MVK_OK) fail_msg("mvk_fft_record: %s", mvk_ctx_error(ctx));
    assert_int_equal(mvk_oneoff_submit(ctx, cb), MVK_OK);

    double err = 0, peak = 0;
    for (uint64_t b = 0; b < batches; b++)
        for (uint64_t k = 0; k < f; k++) {
            double re = 0, im = 0;
            for (uint64_t j = 0; j < d; j++) {
                double a = -2.0 * M_PI * (double)((k * j) % d) / d;
                re += in[b * d + j] * cos(a);
                im += in[b * d + j] * sin(a);
            }
            double gr = cplx[(b * f + k) * 2], gi = cplx[(b * f + k) * 2 + 1];
            err = fmax(err, fmax(fabs(gr - re), fabs(gi - im)));
            peak = fmax(peak, fmax(fabs(re), fabs(im)));
        }
    memset(real, 0, rbytes);
    assert_int_equal(mvk_oneoff_begin(ctx, &cb), MVK_OK);
    s = mvk_fft_record(fft, cb, 1);
    if (s != MVK_OK) fail_msg("mvk_fft_record: %s", mvk_ctx_error(ctx));
    assert_int_equal(mvk_oneoff_submit(ctx, cb), MVK_OK);
    double round = 0;
    for (uint64_t i = 0; i < batches * d; i++) round = fmax(round, fabs(real[i] - in[i]));
    printf("fft d %4u x %llu: R2C max err %.2e (%.2e of max |X|), C2R round trip %.2e\n", d,
           (unsigned long long)batches, err, err / peak, round);
    assert_true(err <= HRR_TOL * peak);
    assert_true(round <= 1e-5);
    mvk_fft_destroy(fft);
    mvk_mem_free(ctx, &m);
    free(in);
    assert_int_equal(mt_validation_messages(), 0);
}

static void test_fft(void **state) {
    (void)state;
    mvk_ctx *ctx = mt_ctx(MVK_KERNELS_CPU);
    for (size_t i = 0; i < MVK_ARRAY_LEN(dims); i++) check_fft(ctx, (uint32_t)dims[i], 7);
    check_fft(ctx, 194, 3); /* 2 * 97: Bluestein's algorithm inside */
    check_fft(ctx, 15, 5);  /* odd length, one pass */
}

static void test_fft_errors(void **state) {
    (void)state;
    mvk_ctx *ctx = mt_ctx(MVK_KERNELS_CPU);
    mvk_mem a, b;
    assert_int_equal(mvk_mem_alloc(ctx, 4096, MVK_MEM_DEVICE, &a), MVK_OK);
    assert_int_equal(mvk_mem_alloc(ctx, 4096, MVK_MEM_DEVICE, &b), MVK_OK);
    mvk_fft *f = NULL;
    /* Two buffers: VkFFT would bind the real one with the complex one's span. */
    assert_int_equal(mvk_fft_create(ctx, 16, 4, (mvk_binding){a.buffer, 0, 256},
                                    (mvk_binding){b.buffer, 0, 288}, &f), MVK_ERR_INTERNAL);
    assert_null(f);
    /* A complex offset VkFFT cannot express in elements. */
    assert_int_equal(mvk_fft_create(ctx, 16, 4, (mvk_binding){a.buffer, 0, 256},
                                    (mvk_binding){a.buffer, 260, 288}, &f), MVK_ERR_INTERNAL);
    /* An odd length VkFFT cannot do in one pass: the plan is made when first recorded, and
     * the VkFFT code is in the message. */
    mvk_mem c;
    assert_int_equal(mvk_mem_alloc(ctx, 4099 * 4 + 2050 * 8, MVK_MEM_DEVICE, &c), MVK_OK);
    assert_int_equal(mvk_fft_create(ctx, 4099, 1, (mvk_binding){c.buffer, 0, 4099 * 4},
                                    (mvk_binding){c.buffer, 4099 * 4 + 4, 2050 * 8}, &f), MVK_OK);
    VkCommandBuffer cb;
    assert_int_equal(mvk_oneoff_begin(ctx, &cb), MVK_OK);
    assert_int_equal(mvk_fft_record(f, cb, -1), MVK_ERR_UNSUPPORTED);
    if (!strstr(mvk_ctx_error(ctx), "VkFFT code 3003")) fail_msg("message: %s", mvk_ctx_error(ctx));
    assert_int_equal(mvk_oneoff_submit(ctx, cb), MVK_OK);
    mvk_fft_destroy(f);
    mvk_mem_free(ctx, &c);
    mvk_mem_free(ctx, &a);
    mvk_mem_free(ctx, &b);
    assert_int_equal(mt_validation_messages(), 0);
}

/* ---- the op ------------------------------------------------------------------------------- */

/* Runs HRR on both kernel classes with the given path and asserts max err <= 1e-5 max |ref|. */
static double check_hrr(int ndim, const int64_t *xne, int64_t krows, int mode, int path) {
    mt_src src[MVK_MAX_SRC] = {0};
    src[0] = mt_shape(ndim, xne[0], xne[1], xne[2], xne[3]);
    int64_t d = xne[ndim - 1];
    src[1] = mt_shape(2, krows, d, 1, 1);
    int64_t nx = src[0].ne[0] * src[0].ne[1] * src[0].ne[2] * src[0].ne[3];
    float *x = mt_random((size_t)nx, -1, 1), *k = mt_random((size_t)(krows * d), -1, 1);
    src[0].data = x;
    src[1].data = k;
    mvk_op_params p = mvk_op_default_params();
    p.mode = mode;
    p.path = path;

    /* max |ref| from the op's double-precision reference. */
    mvk_node node = {.op = MVK_OP_HRR, .p = p};
    mvk_host_tensor host[MVK_MAX_SRC] = {
        {x, ndim, {src[0].ne[0], src[0].ne[1], src[0].ne[2], src[0].ne[3]}},
        {k, 2, {krows, d, 1, 1}}};
    float *ref = malloc((size_t)nx * sizeof *ref);
    assert_non_null(ref);
    mvk_op_get(MVK_OP_HRR)->ref(&node, host, ref, src[0].ne);
    double peak = 0;
    for (int64_t i = 0; i < nx; i++) peak = fmax(peak, fabs(ref[i]));
    free(ref);

    double worst = mt_check_op(MVK_OP_HRR, src, &p, HRR_TOL * peak, 0);
    printf("hrr %-6s %-4s D %4lld rows %4lld K %4lld: max err %.2e = %.2e of max |ref| %.2f\n",
           path == MVK_HRR_FFT ? "fft" : path == MVK_HRR_DIRECT ? "direct" : "auto",
           mode ? "corr" : "conv", (long long)d, (long long)(nx / d), (long long)krows, worst,
           worst / peak, peak);
    assert_true(worst <= HRR_TOL * peak);
    free(x);
    free(k);
    return worst / peak;
}

static void run_paths(int path) {
    for (size_t i = 0; i < MVK_ARRAY_LEN(dims); i++) {
        int64_t d = dims[i], rows = d >= 512 ? 13 : 37; /* odd row counts */
        int64_t ne[4] = {rows, d, 1, 1};
        /* Both modes and both key layouts at every D; all four pairs for the direct path and at
         * D = 100 for the FFT (each FFT case makes four VkFFT plans, ~0.3 s each on lavapipe). */
        check_hrr(2, ne, 1, 0, path);
        check_hrr(2, ne, rows, 1, path);
        if (path == MVK_HRR_DIRECT || d == 100) {
            check_hrr(2, ne, rows, 0, path);
            check_hrr(2, ne, 1, 1, path);
        }
    }
}

static void test_hrr_direct(void **state) { (void)state; run_paths(MVK_HRR_DIRECT); }
static void test_hrr_fft(void **state) { (void)state; run_paths(MVK_HRR_FFT); }

static void test_hrr_ndim_auto(void **state) {
    (void)state;
    /* Leading dimensions are rows: (3, 5, 7, D) is 105 rows. */
    int64_t ne[4] = {3, 5, 7, 64};
    check_hrr(4, ne, 105, 1, MVK_HRR_DIRECT);
    int64_t ne3[4] = {3, 11, 256, 1};
    check_hrr(3, ne3, 1, 0, MVK_HRR_FFT);
    int64_t big[4] = {3, 15, 640, 1};
    check_hrr(3, big, 45, 1, MVK_HRR_AUTO); /* D and work above the crossover: FFT */
    int64_t small[4] = {5, 16, 1, 1};
    check_hrr(2, small, 1, 0, MVK_HRR_AUTO); /* below: direct */
    int64_t odd[4] = {9, 31, 1, 1};
    check_hrr(2, odd, 9, 1, MVK_HRR_DIRECT);
    check_hrr(2, odd, 1, 0, MVK_HRR_FFT); /* odd D in one VkFFT pass */
}

/* A key whose spectrum has unit magnitude everywhere makes correlation the exact inverse of
 * convolution: bind then unbind must give x back (to FFT precision). */
static void test_unbind_recovers(void **state) {
    (void)state;
    const int64_t d = 128, rows = 21;
    double *kd = calloc((size_t)d, sizeof *kd);
    assert_non_null(kd);
    double ph[65];
    for (int64_t f = 0; f <= d / 2; f++) ph[f] = (f == 0 || f == d / 2) ? 0 : mt_uniform(0, 6.2831853f);
    for (int64_t j = 0; j < d; j++) {
        /* k[j] = (1/d) sum_f exp(i ph_f) e^{2 pi i f j / d}, Hermitian: real; DC and Nyquist 1. */
        double v = 1.0 + (((j % 2) == 0) ? 1.0 : -1.0);
        for (int64_t f = 1; f < d / 2; f++) v += 2.0 * cos(ph[f] + 2.0 * M_PI * (double)(f * j % d) / d);
        kd[j] = v / d;
    }
    float key[128];
    for (int64_t j = 0; j < d; j++) key[j] = (float)kd[j];
    free(kd);
    float *x = mt_random((size_t)(rows * d), -1, 1);
    for (int path = MVK_HRR_FFT; path <= MVK_HRR_DIRECT; path++) {
        for (int k = 0; k < 2; k++) {
            mvk_ctx *ctx = mt_ctx(k);
            mvk_graph *g;
            assert_int_equal(mvk_graph_create(ctx, &g), MVK_OK);
            int64_t xe[2] = {rows, d}, ke[2] = {1, d};
            mvk_tensor_id xi, ki, bound, back;
            assert_int_equal(mvk_graph_input(g, "x", 2, xe, &xi), MVK_OK);
            assert_int_equal(mvk_graph_input(g, "key", 2, ke, &ki), MVK_OK);
            mvk_op_params p = mvk_op_default_params();
            p.path = path;
            mvk_tensor_id src[MVK_MAX_SRC] = {xi, ki, -1, -1, -1, -1, -1, -1};
            assert_int_equal(mvk_graph_op(g, MVK_OP_HRR, src, &p, &bound), MVK_OK);
            p.mode = 1;
            src[0] = bound;
            assert_int_equal(mvk_graph_op(g, MVK_OP_HRR, src, &p, &back), MVK_OK);
            assert_int_equal(mvk_graph_output(g, back), MVK_OK);
            mvk_plan *plan;
            mvk_status s = mvk_plan_create(ctx, g, &plan);
            if (s != MVK_OK) fail_msg("plan: %s", mvk_ctx_error(ctx));
            assert_int_equal(mvk_plan_write(plan, xi, x, (uint64_t)(rows * d)), MVK_OK);
            assert_int_equal(mvk_plan_write(plan, ki, key, (uint64_t)d), MVK_OK);
            assert_int_equal(mvk_plan_run(plan), MVK_OK);
            float got[21 * 128];
            assert_int_equal(mvk_plan_read(plan, back, got, (uint64_t)(rows * d)), MVK_OK);
            double err = 0;
            for (int64_t i = 0; i < rows * d; i++) err = fmax(err, fabs(got[i] - x[i]));
            printf("unbind %s (%s kernels): max |x - corr(conv(x, k), k)| = %.2e\n",
                   path == MVK_HRR_FFT ? "fft" : "direct", mvk_ctx_kernel_class(ctx), err);
            assert_true(err < 1e-4);
            mvk_plan_destroy(plan);
            mvk_graph_destroy(g);
        }
    }
    free(x);
    assert_int_equal(mt_validation_messages(), 0);
}

static void expect_error(const int64_t *xe, int xn, const int64_t *ke, int kn, int mode, int path,
                         mvk_status want, const char *text) {
    mvk_ctx *ctx = mt_ctx(0);
    mvk_graph *g;
    assert_int_equal(mvk_graph_create(ctx, &g), MVK_OK);
    mvk_tensor_id x, k, out;
    assert_int_equal(mvk_graph_input(g, "x", xn, xe, &x), MVK_OK);
    assert_int_equal(mvk_graph_input(g, "key", kn, ke, &k), MVK_OK);
    mvk_op_params p = mvk_op_default_params();
    p.mode = mode;
    p.path = path;
    mvk_tensor_id src[MVK_MAX_SRC] = {x, k, -1, -1, -1, -1, -1, -1};
    assert_int_equal(mvk_graph_op(g, MVK_OP_HRR, src, &p, &out), want);
    if (!strstr(mvk_ctx_error(ctx), text)) fail_msg("message \"%s\" lacks \"%s\"", mvk_ctx_error(ctx), text);
    mvk_graph_destroy(g);
}

static void test_hrr_errors(void **state) {
    (void)state;
    int64_t x[2] = {6, 16}, k_short[2] = {1, 15}, k_rows[2] = {3, 16}, k_ok[2] = {1, 16};
    expect_error(x, 2, k_short, 2, 0, 0, MVK_ERR_SHAPE, "length 15");
    expect_error(x, 2, k_rows, 2, 0, 0, MVK_ERR_SHAPE, "1 or one per row");
    expect_error(x, 2, k_ok, 2, 2, 0, MVK_ERR_INVALID_ARG, "mode 2");
    expect_error(x, 2, k_ok, 2, 0, 7, MVK_ERR_INVALID_ARG, "path 7");
}

int main(int argc, char **argv) {
    if (argc > 1) cmocka_set_test_filter(argv[1]); /* e.g. test_hrr_fft */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fft),
        cmocka_unit_test(test_fft_errors),
        cmocka_unit_test(test_hrr_direct),
        cmocka_unit_test(test_hrr_fft),
        cmocka_unit_test(test_hrr_ndim_auto),
        cmocka_unit_test(test_unbind_recovers),
        cmocka_unit_test(test_hrr_errors),
    };
    return cmocka_run_group_tests(tests, mt_setup, mt_teardown);
}
