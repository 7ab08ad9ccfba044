/* Model families against PyTorch: random-initialised MIMOConv models of every binding and
 * activation, exported from reference-style checkpoints by tools/export.py (ctest runs
 * tools/make_test_models.py first), and the shipped models against their goldens. Logits must
 * match within the manifest's tolerance (1e-3 absolute) at every valid n. */
#include "harness.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "io.h"

static char *slurp(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    if (b) b[n] = 0;
    fclose(f);
    return b;
}

/* Runs model at n on dir/input.npy and compares with dir/logits_n{n}.npy. Returns max |diff|. */
static double compare(mvk_ctx *ctx, const char *model_path, const char *dir, int n, double tol) {
    char path[2048], err[1024];
    mvk_model *m;
    mvk_status s = mvk_model_load(ctx, model_path, &m);
    if (s != MVK_OK) fail_msg("%s: %s", model_path, mvk_ctx_error(ctx));
    mvk_array x, want;
    snprintf(path, sizeof path, "%s/input.npy", dir);
    if (mvk_npy_read(path, &x, err, sizeof err) != MVK_OK) fail_msg("%s", err);
    snprintf(path, sizeof path, "%s/logits_n%d.npy", dir, n);
    if (mvk_npy_read(path, &want, err, sizeof err) != MVK_OK) fail_msg("%s", err);
    const mvk_model_info *info = mvk_model_get_info(m);
    assert_int_equal(want.ndim, 2);
    assert_int_equal(want.shape[1], info->num_classes);
    /* PyTorch drops the images that do not fill a group; compare the ones it kept. */
    int count = (int)want.shape[0];
    float *got = malloc((size_t)count * info->num_classes * sizeof *got);
    assert_non_null(got);
    s = mvk_model_run(m, n, x.data, count, got);
    if (s != MVK_OK) fail_msg("%s n=%d: %s", model_path, n, mvk_ctx_error(ctx));
    double worst = 0;
    for (int i = 0; i < count * info->num_classes; i++) {
        double d = fabs((double)got[i] - want.data[i]);
        if (!(d <= worst)) worst = d;
    }
    if (!(worst <= tol)) fail_msg("%s n=%d: max |logit diff| %.3g > %.3g", model_path, n, worst, tol);
    free(got);
    mvk_array_free(&x);
    mvk_array_free(&want);
    mvk_model_destroy(m);
    return worst;
}

static void test_random_models(void **s) {
    (void)s;
    const char *build = getenv("MIMOVK_BUILD_DIR");
    char dir[1024], path[2048];
    snprintf(dir, sizeof dir, "%s/test-models", build ? build : ".");
    snprintf(path, sizeof path, "%s/manifest.json", dir);
    char *text = slurp(path);
    if (!text) fail_msg("%s is missing: the test_models_export fixture (tools/make_test_models.py) did not run", path);
    cJSON *root = cJSON_Parse(text);
    free(text);
    assert_non_null(root);
    const cJSON *models = cJSON_GetObjectItem(root, "models");
    const cJSON *tolj = cJSON_GetObjectItem(root, "tolerance");
    double tol = cJSON_IsNumber(tolj) ? tolj->valuedouble : 1e-3;
    int checked = 0;
    const cJSON *mj;
    cJSON_ArrayForEach(mj, models) {
        const char *file = cJSON_GetObjectItem(mj, "file")->valuestring;
        const char *gdir = cJSON_GetObjectItem(mj, "golden_dir")->valuestring;
        char mpath[2048], gpath[2048];
        snprintf(mpath, sizeof mpath, "%s/%s", file[0] == '/' ? "" : dir, file);
        snprintf(gpath, sizeof gpath, "%s/%s", gdir[0] == '/' ? "" : dir, gdir);
        const cJSON *nj;
        cJSON_ArrayForEach(nj, cJSON_GetObjectItem(mj, "valid_n")) {
            for (int k = 0; k < 2; k++) {
                double d = compare(mt_ctx(k), mpath, gpath, nj->valueint, tol);
                printf("  %-36s n=%d %s kernels: max |diff| %.2e\n", cJSON_GetObjectItem(mj, "name")->valuestring,
                       nj->valueint, k ? "cpu" : "gpu", d);
                checked++;
            }
        }
    }
    cJSON_Delete(root);
    assert_true(checked >= 30);
}

/* The shipped models against the goldens their export wrote (256 real test images). */
static void test_shipped_models(void **s) {
    (void)s;
    const char *src = getenv("MIMOVK_SOURCE_DIR");
    const char *names[] = {"fmnist-wrn16", "fmnist-mimoconv16"};
    int checked = 0;
    for (size_t i = 0; i < MVK_ARRAY_LEN(names); i++) {
        char mpath[2048], gdir[2048];
        snprintf(mpath, sizeof mpath, "%s/models/%s.safetensors", src ? src : ".", names[i]);
        snprintf(gdir, sizeof gdir, "%s/tests/golden/%s", src ? src : ".", names[i]);
        FILE *f = fopen(mpath, "rb");
        if (!f) continue;
        fclose(f);
        mvk_model *m;
        assert_int_equal(mvk_model_load(mt_ctx(MVK_KERNELS_CPU), mpath, &m), MVK_OK);
        const mvk_model_info *info = mvk_model_get_info(m);
        int ns[MVK_MAX_N], nn = info->n_valid;
        memcpy(ns, info->valid_n, sizeof ns);
        mvk_model_destroy(m);
        for (int k = 0; k < nn; k++) {
            double d = compare(mt_ctx(MVK_KERNELS_CPU), mpath, gdir, ns[k], 1e-3);
            printf("  %-20s n=%d: max |diff| %.2e\n", names[i], ns[k], d);
            checked++;
        }
    }
    if (!checked) skip();
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_models),
        cmocka_unit_test(test_shipped_models),
    };
    return cmocka_run_group_tests(tests, mt_setup, mt_teardown);
}
