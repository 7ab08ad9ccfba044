/* mimovk-cam end to end, headless, on a synthetic camera made of Fashion-MNIST test images: its
 * labels and confidences equal `mimovk classify` on the same images with the same model and n,
 * from a directory of PNGs and from a Y4M video; every frame gets its PNG and log line; failures
 * (no camera, a stream cut short, a signal) exit cleanly and leave no half-written file.
 * Models: the tiny model this test writes itself, the exported test model (ctest fixture
 * test_models_data) and the shipped Fashion-MNIST model when they exist. */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cam/testdata.h"
#include "harness.h"
#include "io.h"
#include "tiny_model.h"

enum { FRAMES = 61 }; /* not a multiple of 4 or 2: the tail runs at a smaller n */

static char tmp[256], cam_bin[1024], cli_bin[1024];
static const char *models[3];
static char model_paths[3][1024];
static int nmodels;

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec * 1e-9;
}

static bool under_ci(void) {
    const char *ci = getenv("CI");
    return ci && (!strcmp(ci, "true") || !strcmp(ci, "1"));
}

static int setup(void **state) {
    (void)state;
    int count = 0;
    if (mvk_device_list(NULL, 0, &count) != MVK_OK || count == 0) {
        fprintf(stderr, "no Vulkan device%s\n", under_ci() ? " (CI=true: a failure)" : ": skipped");
        if (under_ci()) return -1;
        skip();
    }
    const char *build = getenv("MIMOVK_BUILD_DIR"), *src = getenv("MIMOVK_SOURCE_DIR");
    if (!build || !src) {
        fprintf(stderr, "MIMOVK_BUILD_DIR and MIMOVK_SOURCE_DIR must be set (ctest sets them)\n");
        return -1;
    }
    snprintf(cam_bin, sizeof cam_bin, "%s/apps/mimovk-cam", build);
    snprintf(cli_bin, sizeof cli_bin, "%s/apps/mimovk", build);
    snprintf(tmp, sizeof tmp, "/tmp/mvk-test-cam-pipeline-XXXXXX");
    if (!mkdtemp(tmp)) return -1;
    if (!cam_test_make_source(tmp, FRAMES, 4)) return -1;
    snprintf(model_paths[0], sizeof model_paths[0], "%s/tiny.safetensors", tmp);
    tiny_init();
    tiny_write(model_paths[0], V_OK);
    models[nmodels++] = model_paths[0];
    snprintf(model_paths[1], sizeof model_paths[1], "%s/test-models/t-hrr-n4-prelu-1x28.safetensors", build);
    snprintf(model_paths[2], sizeof model_paths[2], "%s/models/fmnist-mimoconv16.safetensors", src);
    for (int i = 1; i < 3; i++) {
        if (access(model_paths[i], R_OK) == 0) models[nmodels++] = model_paths[i];
        else fprintf(stderr, "note: %s is not there; not tested with it\n", model_paths[i]);
    }
    return 0;
}

static int teardown(void **state) {
    (void)state;
    if (!tmp[0]) return 0;
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    return system(cmd) == 0 ? 0 : -1;
}

/* Runs a shell command; returns its exit status (-1 if it did not exit). */
static int run(const char *fmt, ...) {
    char cmd[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static char *slurp(const char *path) {
    uint8_t *buf;
    size_t size;
    char err[256];
    if (mvk_file_read(path, &buf, &size, err, sizeof err) != MVK_OK) return NULL;
    char *s = malloc(size + 1);
    memcpy(s, buf, size);
    s[size] = 0;
    mvk_file_free(buf);
    return s;
}

/* The stderr of a run must carry no validation message (the validation layer is on in ctest). */
static void assert_clean_stderr(const char *path) {
    char *e = slurp(path);
    assert_non_null(e);
    if (strstr(e, "validation:")) fprintf(stderr, "%s", e);
    assert_null(strstr(e, "validation:"));
    free(e);
}

/* Nothing half-written: no *.tmp or *.part left in dir. */
static void assert_no_partial(const char *dir) {
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t n = strlen(e->d_name);
        bool partial = (n > 4 && !strcmp(e->d_name + n - 4, ".tmp")) || (n > 5 && !strcmp(e->d_name + n - 5, ".part"));
        if (partial) fprintf(stderr, "left behind: %s/%s\n", dir, e->d_name);
        assert_false(partial);
    }
    closedir(d);
}

typedef struct result {
    char label[64];
    double percent;
    int n;
    long frame;
    char file[128];
} result;

/* `mimovk classify --top 1` lines "PATH: Label 12.3%" in order. */
static int read_classify(const char *path, result *r, int max) {
    char *s = slurp(path);
    assert_non_null(s);
    int k = 0;
    for (char *line = strtok(s, "\n"); line && k < max; line = strtok(NULL, "\n")) {
        char *colon = strstr(line, ": "), *sp = strrchr(line, ' ');
        assert_non_null(colon);
        assert_true(sp > colon);
        *sp = 0;
        snprintf(r[k].label, sizeof r[k].label, "%s", colon + 2);
        r[k].percent = atof(sp + 1);
        *colon = 0;
        const char *base = strrchr(line, '/');
        snprintf(r[k].file, sizeof r[k].file, "%s", base ? base + 1 : line);
        k++;
    }
    free(s);
    return k;
}

/* mimovk-cam's JSON lines. */
static int read_log(const char *path, result *r, int max) {
    char *s = slurp(path);
    assert_non_null(s);
    int k = 0;
    for (char *line = strtok(s, "\n"); line && k < max; line = strtok(NULL, "\n")) {
        cJSON *j = cJSON_Parse(line);
        assert_non_null(j);
        cJSON *label = cJSON_GetObjectItem(j, "label"), *conf = cJSON_GetObjectItem(j, "confidence"),
              *n = cJSON_GetObjectItem(j, "n"), *frame = cJSON_GetObjectItem(j, "frame"),
              *file = cJSON_GetObjectItem(j, "file");
        assert_true(cJSON_IsString(label) && cJSON_IsNumber(conf) && cJSON_IsNumber(n) && cJSON_IsNumber(frame) &&
                    cJSON_IsString(file));
        snprintf(r[k].label, sizeof r[k].label, "%s", label->valuestring);
        snprintf(r[k].file, sizeof r[k].file, "%s", file->valuestring);
        r[k].percent = 100 * conf->valuedouble;
        r[k].n = n->valueint;
        r[k].frame = (long)frame->valuedouble;
        k++;
        cJSON_Delete(j);
    }
    free(s);
    return k;
}

static void valid_ns(const char *model, int *ns, int *count) {
    mvk_ctx_params p = mt_ctx_params(-1);
    mvk_ctx *ctx;
    assert_int_equal(mvk_ctx_create(&p, &ctx), MVK_OK);
    mvk_model *m;
    assert_int_equal(mvk_model_load(ctx, model, &m), MVK_OK);
    const mvk_model_info *info = mvk_model_get_info(m);
    *count = info->n_valid;
    memcpy(ns, info->valid_n, sizeof info->valid_n);
    mvk_model_destroy(m);
    mvk_ctx_destroy(ctx);
}

/* The n the frame at position i ran at: groups of n, the tail at the largest valid smaller n. */
static int expected_n(const int *ns, int nv, int n, int i) {
    int pos = 0, cur = n;
    for (;;) {
        int rem = FRAMES - pos;
        if (rem < cur) {
            cur = 1;
            for (int k = 0; k < nv; k++)
                if (ns[k] <= rem) cur = ns[k];
        }
        if (i < pos + cur) return cur;
        pos += cur;
    }
}

static void compare(const result *cam, const result *cls, int count, const char *what) {
    int mismatched = 0;
    for (int i = 0; i < count; i++) {
        bool same = !strcmp(cam[i].label, cls[i].label) && fabs(cam[i].percent - cls[i].percent) <= 0.051;
        if (!same && mismatched++ < 5)
            fprintf(stderr, "%s: frame %d: cam %s %.3f%%, classify %s %.1f%%\n", what, i, cam[i].label,
                    cam[i].percent, cls[i].label, cls[i].percent);
    }
    assert_int_equal(mismatched, 0);
}

static void test_labels_equal_classify(void **state) {
    (void)state;
    static result cam[FRAMES + 1], cls[FRAMES + 1];
    char out[600], path[800];
    for (int mi = 0; mi < nmodels; mi++) {
        int ns[MVK_MAX_N], nv;
        valid_ns(models[mi], ns, &nv);
        for (int k = 0; k < nv; k++) {
            int n = ns[k];
            snprintf(out, sizeof out, "%s/out-%d-%d", tmp, mi, n);
            double t0 = now_s();
            int rc = run("'%s' '%s' --source '%s/png' --n %d --headless --out '%s' 2>'%s.err'", cam_bin, models[mi], tmp,
                         n, out, out);
            double t1 = now_s();
            if (rc) run("cat '%s.err' >&2", out);
            assert_int_equal(rc, 0);
            assert_clean_stderr((snprintf(path, sizeof path, "%s.err", out), path));
            rc = run("'%s' classify '%s' '%s'/png/*.png --n %d --top 1 >'%s.cls' 2>'%s.cls.err'", cli_bin, models[mi], tmp,
                     n, out, out);
            if (rc) run("cat '%s.cls.err' >&2", out);
            assert_int_equal(rc, 0);
            fprintf(stderr, "%s n = %d: mimovk-cam %.1f s, classify %.1f s\n", models[mi], n, t1 - t0,
                    now_s() - t1);
            snprintf(path, sizeof path, "%s.cls", out);
            assert_int_equal(read_classify(path, cls, FRAMES + 1), FRAMES);
            snprintf(path, sizeof path, "%s/frames.jsonl", out);
            assert_int_equal(read_log(path, cam, FRAMES + 1), FRAMES);
            for (int i = 0; i < FRAMES; i++) {
                assert_int_equal(cam[i].frame, i);
                assert_string_equal(cam[i].file, cls[i].file);
                assert_int_equal(cam[i].n, expected_n(ns, nv, n, i));
                snprintf(path, sizeof path, "%s/frame-%06d.png", out, i);
                assert_int_equal(access(path, R_OK), 0);
            }
            compare(cam, cls, FRAMES, models[mi]);
            assert_no_partial(out);
            /* The same frames as a Y4M video give the same answers. */
            if (k == nv - 1) {
                snprintf(out, sizeof out, "%s/y4m-%d-%d", tmp, mi, n);
                rc = run("'%s' '%s' --source '%s/frames.y4m' --n %d --headless --out '%s' 2>'%s.err'", cam_bin, models[mi],
                         tmp, n, out, out);
                if (rc) run("cat '%s.err' >&2", out);
                assert_int_equal(rc, 0);
                snprintf(path, sizeof path, "%s/frames.jsonl", out);
                assert_int_equal(read_log(path, cam, FRAMES + 1), FRAMES);
                compare(cam, cls, FRAMES, "y4m");
            }
        }
    }
}

static void test_failures_are_clean(void **state) {
    (void)state;
    char out[600], path[800];
    const char *m = models[0];
    /* No camera: a message, exit status 1, nothing written. */
    snprintf(out, sizeof out, "%s/nocam", tmp);
    assert_int_equal(run("'%s' '%s' --source /dev/video-mimovk-none --headless --out '%s' 2>'%s.err'", cam_bin, m, out, out), 1);
    snprintf(path, sizeof path, "%s.err", out);
    char *e = slurp(path);
    assert_non_null(strstr(e, "no camera at /dev/video-mimovk-none"));
    free(e);
    assert_int_equal(access(out, F_OK), -1);
    /* Without a camera and without a display the default is a clear message too. */
    assert_int_not_equal(run("DISPLAY= WAYLAND_DISPLAY= '%s' '%s' --source '%s/png' --seconds 1 2>'%s.err2'", cam_bin, m,
                             tmp, out), 0);
    snprintf(path, sizeof path, "%s.err2", out);
    e = slurp(path);
    assert_true(strstr(e, "--headless") != NULL);
    free(e);
    /* Bad n and bad options: usage errors. */
    assert_int_equal(run("'%s' '%s' --source '%s/png' --n 3 --headless --out '%s' 2>'%s.err'", cam_bin, m, tmp, out, out), 2);
    snprintf(path, sizeof path, "%s.err", out);
    e = slurp(path);
    assert_non_null(strstr(e, "does not divide"));
    free(e);
    assert_int_equal(run("'%s' '%s' --headless 2>/dev/null", cam_bin, m), 2);

    /* A stream that ends inside a frame (a camera unplugged, a file cut short): the frames before
     * it are all classified and written, the log is complete, the exit status says it failed. */
    char cut[700];
    snprintf(cut, sizeof cut, "%s/cut.y4m", tmp);
    const int w = 112, keep = 10;
    long frame_bytes = 6 + w * w + 2 * (w / 2) * (w / 2);
    snprintf(path, sizeof path, "%s/frames.y4m", tmp);
    FILE *f = fopen(path, "rb");
    char header[256];
    assert_non_null(fgets(header, sizeof header, f));
    long bytes = (long)strlen(header) + keep * frame_bytes + frame_bytes / 2;
    fclose(f);
    assert_int_equal(run("head -c %ld '%s' > '%s'", bytes, path, cut), 0);
    snprintf(out, sizeof out, "%s/cut", tmp);
    assert_int_equal(run("'%s' '%s' --source '%s' --n 2 --headless --out '%s' 2>'%s.err'", cam_bin, m, cut, out, out), 1);
    snprintf(path, sizeof path, "%s.err", out);
    e = slurp(path);
    assert_non_null(strstr(e, "truncated"));
    free(e);
    static result r[FRAMES];
    snprintf(path, sizeof path, "%s/frames.jsonl", out);
    assert_int_equal(read_log(path, r, FRAMES), keep);
    for (int i = 0; i < keep; i++) {
        snprintf(path, sizeof path, "%s/frame-%06d.png", out, i);
        assert_int_equal(access(path, R_OK), 0);
    }
    assert_no_partial(out);

    /* A signal mid-run: a clean stop, the log renamed into place, no temporary file. */
    snprintf(out, sizeof out, "%s/sig", tmp);
    assert_int_equal(run("'%s' '%s' --source '%s/png' --loop --frames 1000000 --headless --out '%s' 2>'%s.err' & pid=$!; "
                         "for i in $(seq 300); do [ -s '%s/frames.jsonl.part' ] && break; sleep 0.2; done; "
                         "kill -TERM $pid; wait $pid",
                         cam_bin, m, tmp, out, out, out),
                     0);
    snprintf(path, sizeof path, "%s/frames.jsonl", out);
    assert_true(read_log(path, r, FRAMES) > 0);
    assert_no_partial(out);
    snprintf(path, sizeof path, "%s.err", out);
    assert_clean_stderr(path);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_labels_equal_classify),
        cmocka_unit_test(test_failures_are_clean),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
