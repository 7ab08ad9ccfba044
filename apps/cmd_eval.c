/* mimovk eval MODEL --data DIR: accuracy per n on an IDX test set (Fashion-MNIST layout). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "io.h"
#include "util_app.h"

static int usage(int rc) {
    fprintf(rc ? stderr : stdout,
            "usage: mimovk eval MODEL --data DIR [--n 1,2,4] [--limit K] [--groups G] [--json]\n"
            "  DIR holds t10k-images-idx3-ubyte[.gz] and t10k-labels-idx1-ubyte[.gz]\n");
    return rc;
}

static mvk_status read_idx(const char *dir, const char *base, mvk_idx *out, char *err, size_t errsz) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.gz", dir, base);
    FILE *f = fopen(path, "rb");
    if (f) fclose(f);
    else snprintf(path, sizeof path, "%s/%s", dir, base);
    return mvk_idx_read(path, out, err, errsz);
}

int cmd_eval(int argc, char **argv) {
    const char *model = NULL, *dir = NULL, *nlist = NULL;
    long limit = 0, groups = 0;
    int json = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help")) return usage(0);
        else if (!strcmp(a, "--data") && v) dir = argv[++i];
        else if (!strcmp(a, "--n") && v) nlist = argv[++i];
        else if (!strcmp(a, "--limit")) { if (!app_int("eval", a, v, 1, 1 << 30, &limit)) return 2; i++; }
        else if (!strcmp(a, "--groups")) { if (!app_int("eval", a, v, 1, 65536, &groups)) return 2; i++; }
        else if (!strcmp(a, "--json")) json = 1;
        else if (a[0] != '-' && !model) model = a;
        else return usage(2);
    }
    if (!model || !dir) return usage(2);
    char err[1024];
    mvk_idx images = {0}, labels = {0};
    if (read_idx(dir, "t10k-images-idx3-ubyte", &images, err, sizeof err) != MVK_OK ||
        read_idx(dir, "t10k-labels-idx1-ubyte", &labels, err, sizeof err) != MVK_OK) {
        fprintf(stderr, "mimovk eval: %s\n", err);
        mvk_idx_free(&images);
        return 1;
    }
    int rc = 1;
    float *x = NULL, *logits = NULL;
    mvk_ctx *ctx = NULL;
    mvk_model *m = NULL;
    if (images.ndim != 3 || labels.ndim != 1 || images.shape[0] != labels.shape[0] || images.shape[0] < 1) {
        fprintf(stderr, "mimovk eval: %s: images and labels do not match (need (N, rows, cols) and (N))\n", dir);
        goto done;
    }
    if (!(ctx = app_ctx("eval")) || !(m = app_model("eval", ctx, model))) goto done;
    const mvk_model_info *info = mvk_model_get_info(m);
    int ns[MVK_MAX_N];
    int nn = app_parse_n("eval", nlist, info, ns, MVK_MAX_N);
    if (nn < 0) goto done;
    if (groups && mvk_model_set_groups(m, (int)groups) != MVK_OK) {
        app_error("eval", "--groups", MVK_ERR_INVALID_ARG, ctx);
        goto done;
    }
    int count = (int)images.shape[0];
    if (limit && limit < count) count = (int)limit;
    int rows = (int)images.shape[1], cols = (int)images.shape[2];
    size_t img = (size_t)info->channels * info->height * info->width;
    x = malloc((size_t)count * img * sizeof *x);
    logits = malloc((size_t)count * info->num_classes * sizeof *logits);
    if (!x || !logits) {
        fprintf(stderr, "mimovk eval: out of memory\n");
        goto done;
    }
    for (int i = 0; i < count; i++) {
        mvk_status s = mvk_model_preprocess(m, images.data + (size_t)i * rows * cols, cols, rows, 1, 0, x + i * img);
        if (s != MVK_OK) {
            app_error("eval", "preprocessing", s, ctx);
            goto done;
        }
    }
    double acc[MVK_MAX_N], ref[MVK_MAX_N];
    for (int k = 0; k < nn; k++) {
        char label[32];
        snprintf(label, sizeof label, "n = %d", ns[k]);
        /* Chunks only drive the progress bar: each is a multiple of n, so grouping is unchanged. */
        int chunk = 64 * ns[k] * 16;
        for (int pos = 0; pos < count; pos += chunk) {
            int take = count - pos < chunk ? count - pos : chunk;
            mvk_status s = mvk_model_run(m, ns[k], x + (size_t)pos * img, take, logits + (size_t)pos * info->num_classes);
            if (s != MVK_OK) {
                app_error("eval", "inference", s, ctx);
                goto done;
            }
            app_progress(label, (uint64_t)(pos + take), (uint64_t)count);
        }
        int correct = 0;
        for (int i = 0; i < count; i++) {
            const float *l = logits + (size_t)i * info->num_classes;
            int best = 0;
            for (int c = 1; c < info->num_classes; c++)
                if (l[c] > l[best]) best = c;
            correct += best == labels.data[i];
        }
        acc[k] = (double)correct / count;
        /* PyTorch's own accuracy, recorded by the exporter, compares only over the same images. */
        ref[k] = -1;
        for (int j = 0; j < info->n_valid; j++)
            if (info->valid_n[j] == ns[k] && info->reference_images == count) ref[k] = info->reference_accuracy[j];
    }
    if (json) {
        printf("{\"model\": %s, \"device\": %s, \"results\": [", app_json_str(info->name),
               app_json_str(mvk_ctx_device(ctx)->name));
        for (int k = 0; k < nn; k++) {
            printf("%s{\"n\": %d, \"accuracy\": %.6f, \"images\": %d", k ? ", " : "", ns[k], acc[k], count);
            if (ref[k] >= 0) printf(", \"pytorch_accuracy\": %.6f", ref[k]);
            printf("}");
        }
        printf("]}\n");
    } else {
        printf("%s on %s, %d images\n%4s %10s %10s %9s\n", info->name, mvk_ctx_device(ctx)->name, count, "n",
               "accuracy", "PyTorch", "delta");
        for (int k = 0; k < nn; k++) {
            printf("%4d %9.2f%%", ns[k], 100 * acc[k]);
            if (ref[k] >= 0) printf(" %9.2f%% %+8.2f\n", 100 * ref[k], 100 * (acc[k] - ref[k]));
            else printf(" %10s %9s\n", "-", "-");
        }
    }
    rc = 0;
done:
    free(x);
    free(logits);
    mvk_idx_free(&images);
    mvk_idx_free(&labels);
    mvk_model_destroy(m);
    mvk_ctx_destroy(ctx);
    return rc;
}
