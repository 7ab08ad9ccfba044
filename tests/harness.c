#include "harness.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static mvk_ctx *ctxs[2];
static int validation_count;

static void on_validation(void *user, const char *msg) {
    (void)user;
    validation_count++;
    fprintf(stderr, "VALIDATION MESSAGE: %s\n", msg);
}

int mt_validation_messages(void) { return validation_count; }

static bool under_ci(void) {
    const char *ci = getenv("CI");
    return ci && (!strcmp(ci, "true") || !strcmp(ci, "1"));
}

int mt_setup(void **state) {
    (void)state;
    for (int k = 0; k < 2; k++) {
        if (ctxs[k]) continue;
        mvk_ctx_params p = mt_ctx_params(k);
        mvk_status s = mvk_ctx_create(&p, &ctxs[k]);
        if (s == MVK_ERR_NO_VULKAN || s == MVK_ERR_NO_DEVICE) {
            fprintf(stderr, "no Vulkan device: %s (%s)\n", mvk_status_str(s), mvk_ctx_error(NULL));
            if (under_ci()) {
                fprintf(stderr, "CI=true: a missing Vulkan device is a failure\n");
                return -1;
            }
            skip();
        }
        if (s != MVK_OK) {
            fprintf(stderr, "mvk_ctx_create: %s: %s\n", mvk_status_str(s), mvk_ctx_error(NULL));
            return -1;
        }
    }
    return 0;
}

int mt_teardown(void **state) {
    (void)state;
    for (int k = 0; k < 2; k++) {
        mvk_ctx_destroy(ctxs[k]);
        ctxs[k] = NULL;
    }
    if (validation_count) {
        fprintf(stderr, "%d validation messages\n", validation_count);
        return -1;
    }
    return 0;
}

mvk_ctx *mt_ctx(int k) { return ctxs[k]; }

mvk_ctx_params mt_ctx_params(int kernels) {
    mvk_ctx_params p = mvk_ctx_default_params();
    p.validation = 1;
    p.on_validation = on_validation;
    p.kernels = kernels;
    return p;
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;

uint64_t mt_seed(uint64_t s) {
    uint64_t old = rng;
    rng = s ? s : 1;
    return old;
}

float mt_uniform(float lo, float hi) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return lo + (hi - lo) * (float)((rng >> 40) * (1.0 / 16777216.0));
}

float *mt_random(size_t n, float lo, float hi) {
    float *p = malloc((n ? n : 1) * sizeof *p);
    assert_non_null(p);
    for (size_t i = 0; i < n; i++) p[i] = mt_uniform(lo, hi);
    return p;
}

mt_src mt_shape(int ndim, int64_t a, int64_t b, int64_t c, int64_t d) {
    mt_src s = {.ndim = ndim, .ne = {a, b, c, d}};
    for (int i = ndim; i < 4; i++) s.ne[i] = 1;
    return s;
}

static int64_t numel(const mt_src *s) { return s->ne[0] * s->ne[1] * s->ne[2] * s->ne[3]; }

double mt_check_op(mvk_op op, const mt_src src[MVK_MAX_SRC], const mvk_op_params *p, double atol,
                   double rtol) {
    const mvk_op_impl *impl = mvk_op_get(op);
    assert_non_null(impl);
    assert_non_null(impl->ref);
    float *data[MVK_MAX_SRC] = {0};
    mvk_host_tensor host[MVK_MAX_SRC];
    memset(host, 0, sizeof host);
    for (int i = 0; i < MVK_MAX_SRC; i++) {
        if (!src[i].ndim) continue;
        size_t n = (size_t)numel(&src[i]);
        data[i] = malloc(n * sizeof(float));
        assert_non_null(data[i]);
        if (src[i].data) memcpy(data[i], src[i].data, n * sizeof(float));
        else
            for (size_t j = 0; j < n; j++) data[i][j] = mt_uniform(-1, 1);
        host[i] = (mvk_host_tensor){data[i], src[i].ndim, {src[i].ne[0], src[i].ne[1], src[i].ne[2], src[i].ne[3]}};
    }
    double worst = 0;
    float *ref = NULL;
    for (int k = 0; k < 2; k++) {
        mvk_ctx *ctx = mt_ctx(k);
        mvk_graph *g;
        assert_int_equal(mvk_graph_create(ctx, &g), MVK_OK);
        mvk_tensor_id ids[MVK_MAX_SRC];
        for (int i = 0; i < MVK_MAX_SRC; i++) {
            ids[i] = -1;
            if (!src[i].ndim) continue;
            char name[16];
            snprintf(name, sizeof name, "src%d", i);
            assert_int_equal(mvk_graph_input(g, name, src[i].ndim, src[i].ne, &ids[i]), MVK_OK);
        }
        mvk_tensor_id out;
        mvk_status s = mvk_graph_op(g, op, ids, p, &out);
        if (s != MVK_OK) fail_msg("%s: %s", mvk_op_str(op), mvk_ctx_error(ctx));
        assert_int_equal(mvk_graph_output(g, out), MVK_OK);
        int64_t ne[4];
        mvk_graph_shape(g, out, ne);
        size_t count = (size_t)(ne[0] * ne[1] * ne[2] * ne[3]);
        if (!ref) {
            ref = calloc(count, sizeof(float));
            assert_non_null(ref);
            impl->ref(&g->nodes[0], host, ref, ne);
        }
        mvk_plan *plan;
        s = mvk_plan_create(ctx, g, &plan);
        if (s != MVK_OK) fail_msg("%s: plan: %s", mvk_op_str(op), mvk_ctx_error(ctx));
        for (int i = 0; i < MVK_MAX_SRC; i++)
            if (ids[i] >= 0)
                assert_int_equal(mvk_plan_write(plan, ids[i], data[i], (uint64_t)numel(&src[i])), MVK_OK);
        s = mvk_plan_run(plan);
        if (s != MVK_OK) fail_msg("%s: run: %s", mvk_op_str(op), mvk_ctx_error(ctx));
        float *got = malloc(count * sizeof(float));
        assert_non_null(got);
        assert_int_equal(mvk_plan_read(plan, out, got, count), MVK_OK);
        size_t bad = 0, first_bad = 0;
        for (size_t j = 0; j < count; j++) {
            double d = fabs((double)got[j] - ref[j]);
            if (!(d <= atol + rtol * fabs(ref[j]))) {
                if (!bad) first_bad = j;
                bad++;
            }
            if (d > worst || d != d) worst = d != d ? INFINITY : d;
        }
        if (bad)
            fail_msg("%s (%s kernels): %zu of %zu values off; first at %zu: got %.7g want %.7g "
                     "(atol %g rtol %g)",
                     mvk_op_str(op), mvk_ctx_kernel_class(ctx), bad, count, first_bad,
                     got[first_bad], ref[first_bad], atol, rtol);
        free(got);
        mvk_plan_destroy(plan);
        mvk_graph_destroy(g);
        assert_int_equal(mt_validation_messages(), 0);
    }
    free(ref);
    for (int i = 0; i < MVK_MAX_SRC; i++) free(data[i]);
    return worst;
}
