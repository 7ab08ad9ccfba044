/* mimovk classify MODEL IMAGE...: labels with probabilities for PNG/JPEG images. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "io.h"
#include "util_app.h"

static int usage(int rc) {
    fprintf(rc ? stderr : stdout,
            "usage: mimovk classify MODEL IMAGE... [--n N] [--top K] [--invert | --no-invert]\n"
            "  images are converted to the model's input (colour, centre crop, resize, normalisation);\n"
            "  polarity is detected from the border unless --invert/--no-invert is given\n");
    return rc;
}

int cmd_classify(int argc, char **argv) {
    const char *model = NULL;
    const char **paths = calloc((size_t)argc, sizeof *paths);
    int npaths = 0, invert = -1;
    long n = 1, top = 3;
    if (!paths) return 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help")) { free(paths); return usage(0); }
        else if (!strcmp(a, "--n")) { if (!app_int("classify", a, v, 1, 1024, &n)) { free(paths); return 2; } i++; }
        else if (!strcmp(a, "--top")) { if (!app_int("classify", a, v, 1, 1000, &top)) { free(paths); return 2; } i++; }
        else if (!strcmp(a, "--invert")) invert = 1;
        else if (!strcmp(a, "--no-invert")) invert = 0;
        else if (a[0] == '-') { free(paths); return usage(2); }
        else if (!model) model = a;
        else paths[npaths++] = a;
    }
    if (!model || !npaths) {
        free(paths);
        return usage(2);
    }
    int rc = 1;
    float *x = NULL, *logits = NULL;
    mvk_ctx *ctx = app_ctx("classify");
    mvk_model *m = ctx ? app_model("classify", ctx, model) : NULL;
    if (!m) goto done;
    const mvk_model_info *info = mvk_model_get_info(m);
    size_t img = (size_t)info->channels * info->height * info->width;
    x = malloc((size_t)npaths * img * sizeof *x);
    logits = malloc((size_t)npaths * info->num_classes * sizeof *logits);
    if (!x || !logits) goto done;
    for (int i = 0; i < npaths; i++) {
        int want = info->channels == 1 ? 1 : 3;
        uint8_t *raw = NULL;
        size_t size = 0;
        mvk_image im;
        char err[512];
        mvk_status s = mvk_file_read(paths[i], &raw, &size, err, sizeof err);
        if (s == MVK_OK) s = mvk_image_decode(raw, size, want, &im, err, sizeof err);
        mvk_file_free(raw);
        if (s != MVK_OK) {
            fprintf(stderr, "mimovk classify: %s: %s\n", paths[i], err);
            goto done;
        }
        s = mvk_model_preprocess(m, im.pixels, im.w, im.h, im.c, invert, x + i * img);
        mvk_image_free(&im);
        if (s != MVK_OK) {
            app_error("classify", paths[i], s, ctx);
            goto done;
        }
    }
    mvk_status s = mvk_model_run(m, (int)n, x, npaths, logits);
    if (s != MVK_OK) {
        app_error("classify", "inference", s, ctx);
        goto done;
    }
    int k = (int)top < info->num_classes ? (int)top : info->num_classes;
    for (int i = 0; i < npaths; i++) {
        float *l = logits + (size_t)i * info->num_classes;
        double mx = l[0], sum = 0;
        for (int c = 1; c < info->num_classes; c++) mx = l[c] > mx ? l[c] : mx;
        for (int c = 0; c < info->num_classes; c++) sum += exp(l[c] - mx);
        printf("%s:", paths[i]);
        for (int r = 0; r < k; r++) {
            int best = -1;
            for (int c = 0; c < info->num_classes; c++)
                if (!isnan(l[c]) && (best < 0 || l[c] > l[best])) best = c;
            if (best < 0) break;
            printf("%s %s %.1f%%", r ? "," : "", info->labels ? info->labels[best] : "?",
                   100 * exp(l[best] - mx) / sum);
            l[best] = NAN;
        }
        printf("\n");
    }
    rc = 0;
done:
    free(paths);
    free(x);
    free(logits);
    mvk_model_destroy(m);
    mvk_ctx_destroy(ctx);
    return rc;
}
