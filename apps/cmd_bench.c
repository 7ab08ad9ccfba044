/* mimovk bench MODEL: images/s per n, median of repeated runs after a warm-up. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "util_app.h"

static int usage(int rc) {
    fprintf(rc ? stderr : stdout,
            "usage: mimovk bench MODEL [--n 1,2,4] [--batch G] [--passes P] [--runs R] [--json]\n"
            "  --batch G   superposed samples per pass (the trunk batch; a pass takes G*n images), default 16\n"
            "  --passes P  passes per timed run, default 4; --runs R timed runs per n (median), default 9;\n"
            "  after one warm-up run per n, the timed runs go round-robin over n\n");
    return rc;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int cmd_bench(int argc, char **argv) {
    const char *model = NULL, *nlist = NULL;
    long groups = 16, passes = 4, runs = 9;
    int json = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help")) return usage(0);
        else if (!strcmp(a, "--n") && v) nlist = argv[++i];
        else if (!strcmp(a, "--batch")) { if (!app_int("bench", a, v, 1, 65536, &groups)) return 2; i++; }
        else if (!strcmp(a, "--passes")) { if (!app_int("bench", a, v, 1, 1000, &passes)) return 2; i++; }
        else if (!strcmp(a, "--runs")) { if (!app_int("bench", a, v, 5, 1000, &runs)) return 2; i++; }
        else if (!strcmp(a, "--json")) json = 1;
        else if (a[0] != '-' && !model) model = a;
        else return usage(2);
    }
    if (!model) return usage(2);
    int rc = 1;
    float *x = NULL, *logits = NULL;
    mvk_ctx *ctx = app_ctx("bench");
    mvk_model *m = ctx ? app_model("bench", ctx, model) : NULL;
    if (!m) goto done;
    const mvk_model_info *info = mvk_model_get_info(m);
    int ns[MVK_MAX_N];
    int nn = app_parse_n("bench", nlist, info, ns, MVK_MAX_N);
    if (nn < 0) goto done;
    mvk_status s = mvk_model_set_groups(m, (int)groups);
    if (s != MVK_OK) {
        app_error("bench", "--batch", s, ctx);
        goto done;
    }
    int maxn = 1;
    for (int k = 0; k < nn; k++) maxn = ns[k] > maxn ? ns[k] : maxn;
    size_t img = (size_t)info->channels * info->height * info->width;
    size_t most = (size_t)groups * maxn * passes;
    x = malloc(most * img * sizeof *x);
    logits = malloc(most * info->num_classes * sizeof *logits);
    if (!x || !logits) {
        fprintf(stderr, "mimovk bench: out of memory\n");
        goto done;
    }
    uint64_t seed = 12345;
    for (size_t i = 0; i < most * img; i++) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        x[i] = (float)((seed >> 40) / 16777216.0 * 2 - 1);
    }
    double ips[MVK_MAX_N], med_ms[MVK_MAX_N];
    double *t = malloc((size_t)runs * nn * sizeof *t);
    if (!t) goto done;
    /* Warm-up of every n first (plan creation, pipeline compilation, first touch of memory), then
     * the timed runs round-robin over n: on a shared machine the load drifts, and interleaving
     * lets every n see the same drift, so the speed-ups of one run stay comparable. */
    for (long r = -1; r < runs; r++) {
        for (int k = 0; k < nn; k++) {
            int count = (int)(groups * ns[k] * passes);
            double t0 = app_now();
            if ((s = mvk_model_run(m, ns[k], x, count, logits)) != MVK_OK) {
                app_error("bench", "inference", s, ctx);
                free(t);
                goto done;
            }
            if (r >= 0) t[k * runs + r] = app_now() - t0;
        }
    }
    for (int k = 0; k < nn; k++) {
        double *tk = t + (size_t)k * runs;
        qsort(tk, (size_t)runs, sizeof *tk, cmp_double);
        double med = runs % 2 ? tk[runs / 2] : 0.5 * (tk[runs / 2 - 1] + tk[runs / 2]);
        med_ms[k] = med * 1e3;
        ips[k] = groups * ns[k] * passes / med;
    }
    free(t);
    double base = ips[0];
    for (int k = 0; k < nn; k++)
        if (ns[k] == 1) base = ips[k];
    if (json) {
        printf("{\"model\": %s, \"device\": %s, \"kernels\": \"%s\", \"batch\": %ld, \"runs\": %ld, \"results\": [",
               app_json_str(info->name), app_json_str(mvk_ctx_device(ctx)->name), mvk_ctx_kernel_class(ctx), groups, runs);
        for (int k = 0; k < nn; k++)
            printf("%s{\"n\": %d, \"images_per_s\": %.2f, \"speedup\": %.3f, \"ms_per_pass\": %.3f}", k ? ", " : "", ns[k],
                   ips[k], ips[k] / base, med_ms[k] / passes);
        printf("]}\n");
    } else {
        printf("%s on %s (%s kernels), %ld superposed samples per pass, median of %ld runs\n", info->name,
               mvk_ctx_device(ctx)->name, mvk_ctx_kernel_class(ctx), groups, runs);
        printf("%4s %12s %10s %12s\n", "n", "images/s", "speed-up", "ms/pass");
        for (int k = 0; k < nn; k++)
            printf("%4d %12.1f %9.2fx %12.2f\n", ns[k], ips[k], ips[k] / base, med_ms[k] / passes);
    }
    rc = 0;
done:
    free(x);
    free(logits);
    mvk_model_destroy(m);
    mvk_ctx_destroy(ctx);
    return rc;
}
