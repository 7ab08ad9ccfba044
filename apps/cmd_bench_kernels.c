/* mimovk bench-kernels: GFLOP/s of the conv kernel (and the linear/GEMM kernel) on WideResNet
 * shapes, through the public plan API: a one-op graph is planned once and run repeatedly; each
 * run (submit + wait) is timed with clock_gettime and the median is reported. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "commands.h"
#include "mimovk.h"

typedef struct bench_shape {
    int64_t ci, h, w, co;
    int k, stride;
} bench_shape;

/* WideResNet-16-4 on 28x28 inputs: the 3x3 convs of the three stages and the stride-2
 * transitions between them, plus the 1x1 stride-2 shortcuts. */
static const bench_shape wrn_shapes[] = {
    {64, 28, 28, 64, 3, 1},   {128, 14, 14, 128, 3, 1}, {256, 7, 7, 256, 3, 1},
    {64, 28, 28, 128, 3, 2},  {128, 14, 14, 256, 3, 2}, {64, 28, 28, 128, 1, 2},
    {128, 14, 14, 256, 1, 2}, {64, 28, 28, 64, 1, 1},
};

typedef struct bench_result {
    char op[16];
    char shape[64];
    double gflop, ms_median, ms_min, plan_ms, first_ms;
    double cpu_ms_median; /* process CPU time per run (all driver threads), median */
} bench_result;

static double clock_ms(clockid_t id) {
    struct timespec ts;
    clock_gettime(id, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec * 1e-6;
}

static double now_ms(void) { return clock_ms(CLOCK_MONOTONIC); }

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static float *random_floats(size_t n, uint32_t *seed) {
    float *p = malloc((n ? n : 1) * sizeof *p);
    if (!p) return NULL;
    for (size_t i = 0; i < n; i++) {
        *seed = *seed * 1664525u + 1013904223u;
        p[i] = (float)((*seed >> 8) * (1.0 / 16777216.0)) * 2.0f - 1.0f;
    }
    return p;
}

/* Builds, plans and times a one-op graph whose inputs are src_ne[i] (ndim[i] = 0: unused).
 * Returns 0 on success, 1 on failure (message printed), 2 when the op is not available. */
static int bench_op(mvk_ctx *ctx, mvk_op op, const int *ndim, int64_t (*src_ne)[4],
                    const mvk_op_params *p, int warmup, int runs, bench_result *res) {
    mvk_graph *g = NULL;
    mvk_plan *plan = NULL;
    float *data[MVK_MAX_SRC] = {0};
    double *times = calloc(2 * (size_t)runs, sizeof *times), *cpu = times + runs;
    int rc = 1;
    mvk_tensor_id ids[MVK_MAX_SRC], out;
    uint32_t seed = 12345;
    if (!times || mvk_graph_create(ctx, &g) != MVK_OK) goto done;
    for (int i = 0; i < MVK_MAX_SRC; i++) {
        ids[i] = -1;
        if (!ndim[i]) continue;
        char name[16];
        snprintf(name, sizeof name, "src%d", i);
        if (mvk_graph_input(g, name, ndim[i], src_ne[i], &ids[i]) != MVK_OK) goto fail;
    }
    mvk_status s = mvk_graph_op(g, op, ids, p, &out);
    if (s == MVK_ERR_UNSUPPORTED) {
        rc = 2;
        goto done;
    }
    if (s != MVK_OK || mvk_graph_output(g, out) != MVK_OK) goto fail;
    res->gflop = mvk_graph_flops(g) * 1e-9;
    double t0 = now_ms();
    if (mvk_plan_create(ctx, g, &plan) != MVK_OK) goto fail;
    res->plan_ms = now_ms() - t0;
    for (int i = 0; i < MVK_MAX_SRC; i++) {
        if (ids[i] < 0) continue;
        uint64_t n = 1;
        for (int d = 0; d < ndim[i]; d++) n *= (uint64_t)src_ne[i][d];
        data[i] = random_floats(n, &seed);
        if (!data[i] || mvk_plan_write(plan, ids[i], data[i], n) != MVK_OK) goto fail;
    }
    /* The first run includes the driver's deferred shader compilation (llvmpipe JITs at the
     * first dispatch), so it is reported apart and never timed with the others. */
    t0 = now_ms();
    if (mvk_plan_run(plan) != MVK_OK) goto fail;
    res->first_ms = now_ms() - t0;
    for (int i = 0; i < warmup; i++)
        if (mvk_plan_run(plan) != MVK_OK) goto fail;
    for (int i = 0; i < runs; i++) {
        double c0 = clock_ms(CLOCK_PROCESS_CPUTIME_ID);
        t0 = now_ms();
        if (mvk_plan_run(plan) != MVK_OK) goto fail;
        times[i] = now_ms() - t0;
        cpu[i] = clock_ms(CLOCK_PROCESS_CPUTIME_ID) - c0;
    }
    qsort(times, (size_t)runs, sizeof *times, cmp_double);
    qsort(cpu, (size_t)runs, sizeof *cpu, cmp_double);
    res->cpu_ms_median = runs % 2 ? cpu[runs / 2] : 0.5 * (cpu[runs / 2 - 1] + cpu[runs / 2]);
    res->ms_min = times[0];
    res->ms_median = runs % 2 ? times[runs / 2] : 0.5 * (times[runs / 2 - 1] + times[runs / 2]);
    rc = 0;
    goto done;
fail:
    fprintf(stderr, "mimovk bench-kernels: %s: %s\n", mvk_op_str(op), mvk_ctx_error(ctx));
done:
    mvk_plan_destroy(plan);
    mvk_graph_destroy(g);
    for (int i = 0; i < MVK_MAX_SRC; i++) free(data[i]);
    free(times);
    return rc;
}

static void usage(FILE *f) {
    fprintf(f,
            "usage: mimovk bench-kernels [options]\n\n"
            "GFLOP/s of the conv2d kernel on WideResNet-16-4 shapes (28x28 input) and of the\n"
            "linear (GEMM) kernel, median of --runs timed runs after --warmup runs. 'cpu ms' is\n"
            "the process CPU time per run (all driver threads): on a shared machine it shows the\n"
            "work done when the wall clock also counts time lost to other processes.\n\n"
            "options:\n"
            "  --batch N          images per run (default 8)\n"
            "  --runs N           timed runs per shape (default 7, at least 1)\n"
            "  --warmup N         untimed runs after the first (default 2)\n"
            "  --kernels cpu|gpu  force a kernel class (default: by device type)\n"
            "  --shape CI,H,W,CO,K,S  bench this conv shape instead of the default list\n"
            "                     (repeatable; padding is K/2)\n"
            "  --no-linear        skip the linear kernel\n"
            "  --json             print JSON instead of a table\n");
}

int cmd_bench_kernels(int argc, char **argv) {
    int batch = 8, runs = 7, warmup = 2, kernels = -1, json = 0, linear = 1;
    bench_shape custom[32];
    int ncustom = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--json")) {
            json = 1;
        } else if (!strcmp(a, "--no-linear")) {
            linear = 0;
        } else if (v && !strcmp(a, "--batch")) {
            batch = atoi(v), i++;
        } else if (v && !strcmp(a, "--runs")) {
            runs = atoi(v), i++;
        } else if (v && !strcmp(a, "--warmup")) {
            warmup = atoi(v), i++;
        } else if (v && !strcmp(a, "--kernels")) {
            kernels = !strcmp(v, "cpu") ? 1 : !strcmp(v, "gpu") ? 0 : -2, i++;
        } else if (v && !strcmp(a, "--shape") && ncustom < 32) {
            long long ci, h, w, co;
            int k, s;
            if (sscanf(v, "%lld,%lld,%lld,%lld,%d,%d", &ci, &h, &w, &co, &k, &s) != 6 || ci < 1 ||
                h < 1 || w < 1 || co < 1 || k < 1 || s < 1) {
                fprintf(stderr, "mimovk bench-kernels: bad --shape '%s' (CI,H,W,CO,K,S)\n", v);
                return 2;
            }
            custom[ncustom++] = (bench_shape){ci, h, w, co, k, s};
            i++;
        } else {
            fprintf(stderr, "mimovk bench-kernels: unknown or incomplete option '%s'\n\n", a);
            usage(stderr);
            return 2;
        }
    }
    if (batch < 1 || runs < 1 || warmup < 0 || kernels == -2) {
        fprintf(stderr, "mimovk bench-kernels: --batch and --runs must be >= 1, --kernels cpu|gpu\n");
        return 2;
    }

    mvk_ctx_params cp = mvk_ctx_default_params();
    cp.kernels = kernels;
    mvk_ctx *ctx;
    mvk_status s = mvk_ctx_create(&cp, &ctx);
    if (s != MVK_OK) {
        fprintf(stderr, "mimovk bench-kernels: %s: %s\n", mvk_status_str(s), mvk_ctx_error(NULL));
        return 1;
    }
    const mvk_device_info *dev = mvk_ctx_device(ctx);
    const bench_shape *shapes = ncustom ? custom : wrn_shapes;
    int nshapes = ncustom ? ncustom : (int)(sizeof wrn_shapes / sizeof wrn_shapes[0]);
    bench_result results[64];
    int nres = 0, failed = 0, linear_missing = 0;

    for (int i = 0; i < nshapes; i++) {
        const bench_shape *b = &shapes[i];
        int ndim[MVK_MAX_SRC] = {4, 4};
        int64_t ne[MVK_MAX_SRC][4] = {{batch, b->ci, b->h, b->w}, {b->co, b->ci, b->k, b->k}};
        mvk_op_params p = mvk_op_default_params();
        p.stride = b->stride;
        p.pad = b->k / 2;
        bench_result *r = &results[nres];
        memset(r, 0, sizeof *r);
        snprintf(r->op, sizeof r->op, "conv2d");
        snprintf(r->shape, sizeof r->shape, "%dx%d s%d %lld->%lld %lldx%lld", b->k, b->k, b->stride,
                 (long long)b->ci, (long long)b->co, (long long)b->h, (long long)b->w);
        int rc = bench_op(ctx, MVK_OP_CONV2D, ndim, ne, &p, warmup, runs, r);
        if (rc == 0) nres++;
        else failed = 1;
    }
    if (linear && !ncustom) {
        /* The MIMONet head (unbind F -> 4F, fc) and a square GEMM. */
        const int64_t lin[][3] = {{batch, 256, 1024}, {512, 1024, 1024}, {batch * 49, 256, 256}};
        for (size_t i = 0; i < sizeof lin / sizeof lin[0] && !linear_missing; i++) {
            int ndim[MVK_MAX_SRC] = {2, 2};
            int64_t ne[MVK_MAX_SRC][4] = {{lin[i][0], lin[i][1]}, {lin[i][2], lin[i][1]}};
            bench_result *r = &results[nres];
            memset(r, 0, sizeof *r);
            snprintf(r->op, sizeof r->op, "linear");
            snprintf(r->shape, sizeof r->shape, "%lldx%lld -> %lld", (long long)lin[i][0],
                     (long long)lin[i][1], (long long)lin[i][2]);
            int rc = bench_op(ctx, MVK_OP_LINEAR, ndim, ne, NULL, warmup, runs, r);
            if (rc == 0) nres++;
            else if (rc == 2) linear_missing = 1;
            else failed = 1;
        }
    }

    if (json) {
        printf("{\n  \"device\": \"%s\",\n  \"driver\": \"%s\",\n  \"device_type\": \"%s\",\n"
               "  \"kernels\": \"%s\",\n  \"batch\": %d,\n  \"runs\": %d,\n  \"warmup\": %d,\n"
               "  \"linear\": \"%s\",\n  \"results\": [",
               dev->name, dev->driver_info, mvk_device_type_str(dev->type),
               mvk_ctx_kernel_class(ctx), batch, runs, warmup,
               !linear ? "skipped" : linear_missing ? "not available" : "ok");
        for (int i = 0; i < nres; i++) {
            const bench_result *r = &results[i];
            printf("%s\n    {\"op\": \"%s\", \"shape\": \"%s\", \"gflop\": %.6f, \"ms_median\": "
                   "%.4f, \"ms_min\": %.4f, \"gflops\": %.3f, \"plan_ms\": %.1f, \"first_run_ms\": %.1f, \"cpu_ms_median\": %.4f}",
                   i ? "," : "", r->op, r->shape, r->gflop, r->ms_median, r->ms_min,
                   r->gflop / (r->ms_median * 1e-3), r->plan_ms, r->first_ms, r->cpu_ms_median);
        }
        printf("\n  ]\n}\n");
    } else {
        printf("device:  %s (%s)\ndriver:  %s\nkernels: %s\nbatch %d, median of %d runs after %d "
               "warm-up runs\n\n",
               dev->name, mvk_device_type_str(dev->type), dev->driver_info,
               mvk_ctx_kernel_class(ctx), batch, runs, warmup);
        printf("%-7s %-26s %7s %9s %8s %8s %8s %8s %8s\n", "op", "shape", "GFLOP", "ms median",
               "ms min", "GFLOP/s", "cpu ms", "plan ms", "1st run");
        for (int i = 0; i < nres; i++) {
            const bench_result *r = &results[i];
            printf("%-7s %-26s %7.4f %9.3f %8.3f %8.2f %8.2f %8.1f %8.1f\n", r->op, r->shape,
                   r->gflop, r->ms_median, r->ms_min, r->gflop / (r->ms_median * 1e-3),
                   r->cpu_ms_median, r->plan_ms, r->first_ms);
        }
        if (linear && !ncustom && linear_missing) printf("linear  not available\n");
    }
    mvk_ctx_destroy(ctx);
    return failed;
}
