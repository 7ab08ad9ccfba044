/* mimovk run MODEL --n N --input X.npy --output Y.npy: preprocessed NCHW float32 in, logits out. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "io.h"
#include "util_app.h"

static int usage(int rc) {
    fprintf(rc ? stderr : stdout,
            "usage: mimovk run MODEL --n N --input X.npy --output Y.npy [--groups G]\n"
            "  X: float32 (B, C, H, W), already normalised; Y: float32 (B, classes) logits\n");
    return rc;
}

int cmd_run(int argc, char **argv) {
    const char *model = NULL, *in = NULL, *out = NULL;
    long n = 1, groups = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help")) return usage(0);
        else if (!strcmp(a, "--n")) { if (!app_int("run", a, v, 1, 1024, &n)) return 2; i++; }
        else if (!strcmp(a, "--groups")) { if (!app_int("run", a, v, 1, 65536, &groups)) return 2; i++; }
        else if (!strcmp(a, "--input") && v) in = argv[++i];
        else if (!strcmp(a, "--output") && v) out = argv[++i];
        else if (a[0] != '-' && !model) model = a;
        else return usage(2);
    }
    if (!model || !in || !out) return usage(2);
    char err[1024];
    mvk_array x;
    mvk_status s = mvk_npy_read(in, &x, err, sizeof err);
    if (s != MVK_OK) {
        fprintf(stderr, "mimovk run: %s\n", err);
        return 1;
    }
    mvk_ctx *ctx = app_ctx("run");
    mvk_model *m = ctx ? app_model("run", ctx, model) : NULL;
    int rc = 1;
    float *logits = NULL;
    if (!m) goto done;
    const mvk_model_info *info = mvk_model_get_info(m);
    if (x.ndim != 4 || x.shape[1] != info->channels || x.shape[2] != info->height || x.shape[3] != info->width) {
        fprintf(stderr, "mimovk run: %s has shape (", in);
        for (int d = 0; d < x.ndim; d++) fprintf(stderr, "%s%lld", d ? ", " : "", (long long)x.shape[d]);
        fprintf(stderr, "); the model takes (B, %d, %d, %d)\n", info->channels, info->height, info->width);
        goto done;
    }
    if (x.shape[0] > (1 << 24)) {
        fprintf(stderr, "mimovk run: too many images (%lld)\n", (long long)x.shape[0]);
        goto done;
    }
    if (groups && (s = mvk_model_set_groups(m, (int)groups)) != MVK_OK) {
        app_error("run", "--groups", s, ctx);
        goto done;
    }
    int count = (int)x.shape[0];
    logits = malloc(((size_t)count * info->num_classes + 1) * sizeof *logits);
    if (!logits) {
        fprintf(stderr, "mimovk run: out of memory\n");
        goto done;
    }
    s = mvk_model_run(m, (int)n, x.data, count, logits);
    if (s != MVK_OK) {
        app_error("run", "inference", s, ctx);
        goto done;
    }
    int64_t shape[2] = {count, info->num_classes};
    if ((s = mvk_npy_write(out, logits, 2, shape, err, sizeof err)) != MVK_OK) {
        fprintf(stderr, "mimovk run: %s\n", err);
        goto done;
    }
    rc = 0;
done:
    free(logits);
    mvk_array_free(&x);
    mvk_model_destroy(m);
    mvk_ctx_destroy(ctx);
    return rc;
}
