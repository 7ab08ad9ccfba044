#include "util_app.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void app_error(const char *cmd, const char *what, mvk_status s, mvk_ctx *ctx) {
    const char *msg = mvk_ctx_error(ctx);
    fprintf(stderr, "mimovk %s: %s: %s%s%s\n", cmd, what, mvk_status_str(s), msg && *msg ? ": " : "",
            msg ? msg : "");
}

mvk_ctx *app_ctx(const char *cmd) {
    mvk_ctx *ctx = NULL;
    mvk_ctx_params p = mvk_ctx_default_params();
    mvk_status s = mvk_ctx_create(&p, &ctx);
    if (s != MVK_OK) {
        app_error(cmd, "no Vulkan context", s, NULL);
        return NULL;
    }
    return ctx;
}

mvk_model *app_model(const char *cmd, mvk_ctx *ctx, const char *path) {
    mvk_model *m = NULL;
    mvk_status s = mvk_model_load(ctx, path, &m);
    if (s != MVK_OK) {
        app_error(cmd, path, s, ctx);
        return NULL;
    }
    return m;
}

int app_parse_n(const char *cmd, const char *arg, const mvk_model_info *info, int *ns, int max) {
    if (!arg || !strcmp(arg, "all")) {
        int k = 0;
        for (int i = 0; i < info->n_valid && k < max; i++) ns[k++] = info->valid_n[i];
        return k;
    }
    int k = 0;
    const char *p = arg;
    while (*p) {
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p || v < 1 || v > 1024 || k == max) {
            fprintf(stderr, "mimovk %s: --n takes a comma-separated list of positive integers, not '%s'\n", cmd, arg);
            return -1;
        }
        ns[k++] = (int)v;
        p = *end == ',' ? end + 1 : end;
        if (*end && *end != ',') {
            fprintf(stderr, "mimovk %s: --n takes a comma-separated list of positive integers, not '%s'\n", cmd, arg);
            return -1;
        }
    }
    return k;
}

bool app_int(const char *cmd, const char *opt, const char *val, long lo, long hi, long *out) {
    char *end;
    long v = val ? strtol(val, &end, 10) : 0;
    if (!val || *end || v < lo || v > hi) {
        fprintf(stderr, "mimovk %s: %s needs an integer in [%ld, %ld]\n", cmd, opt, lo, hi);
        return false;
    }
    *out = v;
    return true;
}

double app_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

void app_progress(const char *label, uint64_t done, uint64_t total) {
    static double last;
    if (!isatty(2) || total == 0) return;
    double now = app_now();
    if (done < total && now - last < 0.1) return;
    last = now;
    int width = 30, fill = (int)((double)done / total * width);
    fprintf(stderr, "\r%-12s [%.*s%*s] %llu/%llu", label, fill, "##############################", width - fill, "",
            (unsigned long long)done, (unsigned long long)total);
    if (done >= total) fprintf(stderr, "\n");
    fflush(stderr);
}

const char *app_json_str(const char *s) {
    static char buf[4][1024];
    static int which;
    char *o = buf[which++ & 3];
    size_t k = 0;
    o[k++] = '"';
    for (; s && *s && k < sizeof buf[0] - 8; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') o[k++] = '\\', o[k++] = (char)c;
        else if (c < 0x20) k += (size_t)snprintf(o + k, 8, "\\u%04x", c);
        else o[k++] = (char)c;
    }
    o[k++] = '"';
    o[k] = 0;
    return o;
}
