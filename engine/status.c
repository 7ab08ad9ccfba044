/* Statuses, failure messages, logging and counted host allocation. */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const status_names[] = {
    [MVK_OK] = "ok",
    [MVK_ERR_NO_VULKAN] = "no Vulkan",
    [MVK_ERR_NO_DEVICE] = "no Vulkan device",
    [MVK_ERR_OUT_OF_HOST_MEMORY] = "out of host memory",
    [MVK_ERR_OUT_OF_DEVICE_MEMORY] = "out of device memory",
    [MVK_ERR_DEVICE_LOST] = "device lost",
    [MVK_ERR_VULKAN] = "Vulkan error",
    [MVK_ERR_INVALID_ARG] = "invalid argument",
    [MVK_ERR_SHAPE] = "shape mismatch",
    [MVK_ERR_UNSUPPORTED] = "unsupported",
    [MVK_ERR_LIMIT] = "above a device limit",
    [MVK_ERR_IO] = "I/O error",
    [MVK_ERR_FORMAT] = "malformed file",
    [MVK_ERR_BAD_N] = "n does not divide the capacity",
    [MVK_ERR_INTERNAL] = "internal error",
};
_Static_assert(MVK_ARRAY_LEN(status_names) == MVK_STATUS_COUNT, "one name per status");

const char *mvk_status_str(mvk_status s) {
    if ((unsigned)s >= MVK_STATUS_COUNT) return "unknown status";
    return status_names[s];
}

const char *mvk_vk_result_str(VkResult r) {
    switch (r) {
#define C(x) case x: return #x;
        C(VK_SUCCESS) C(VK_NOT_READY) C(VK_TIMEOUT) C(VK_EVENT_SET) C(VK_EVENT_RESET)
        C(VK_INCOMPLETE) C(VK_ERROR_OUT_OF_HOST_MEMORY) C(VK_ERROR_OUT_OF_DEVICE_MEMORY)
        C(VK_ERROR_INITIALIZATION_FAILED) C(VK_ERROR_DEVICE_LOST) C(VK_ERROR_MEMORY_MAP_FAILED)
        C(VK_ERROR_LAYER_NOT_PRESENT) C(VK_ERROR_EXTENSION_NOT_PRESENT)
        C(VK_ERROR_FEATURE_NOT_PRESENT) C(VK_ERROR_INCOMPATIBLE_DRIVER)
        C(VK_ERROR_TOO_MANY_OBJECTS) C(VK_ERROR_FORMAT_NOT_SUPPORTED)
        C(VK_ERROR_FRAGMENTED_POOL) C(VK_ERROR_OUT_OF_POOL_MEMORY)
        C(VK_ERROR_INVALID_EXTERNAL_HANDLE) C(VK_ERROR_UNKNOWN)
#undef C
    default: return "VkResult(?)";
    }
}

mvk_status mvk_fail(mvk_ctx *ctx, mvk_status s, const char *fmt, ...) {
    if (ctx) {
        /* Format into a copy: callers may pass ctx->error itself as an argument. */
        char buf[sizeof ctx->error];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(buf, sizeof buf, fmt, ap);
        va_end(ap);
        memcpy(ctx->error, buf, sizeof buf);
        mvk_log(ctx, MVK_LOG_DEBUG, "failure (%s): %s", mvk_status_str(s), ctx->error);
    }
    return s;
}

mvk_status mvk_vk_fail(mvk_ctx *ctx, VkResult r, const char *what) {
    mvk_status s;
    switch (r) {
    case VK_ERROR_OUT_OF_HOST_MEMORY: s = MVK_ERR_OUT_OF_HOST_MEMORY; break;
    case VK_ERROR_OUT_OF_DEVICE_MEMORY: s = MVK_ERR_OUT_OF_DEVICE_MEMORY; break;
    case VK_ERROR_DEVICE_LOST: s = MVK_ERR_DEVICE_LOST; break;
    case VK_ERROR_INCOMPATIBLE_DRIVER: s = MVK_ERR_NO_VULKAN; break;
    default: s = MVK_ERR_VULKAN; break;
    }
    return mvk_fail(ctx, s, "%s failed: %s", what, mvk_vk_result_str(r));
}

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void mvk_log(const mvk_ctx *ctx, mvk_log_level lvl, const char *fmt, ...) {
    if (!ctx || lvl < ctx->params.log_level || lvl >= MVK_LOG_NONE) return;
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (ctx->params.log)
        ctx->params.log(ctx->params.log_user, lvl, buf);
    else
        fprintf(stderr, "mimovk %s: %s\n", level_names[lvl], buf);
}

void mvk_log_once(mvk_ctx *ctx, const char *key, const char *fmt, ...) {
    for (uint32_t i = 0; i < ctx->nonce; i++)
        if (strcmp(ctx->once[i].key, key) == 0) return;
    if (ctx->nonce == ctx->caponce) {
        uint32_t cap = ctx->caponce ? ctx->caponce * 2 : 16;
        /* Plain realloc: a log line is not a fault-injection point, and a lost notice is
         * better than a failed op. */
        mvk_once_key *k = realloc(ctx->once, cap * sizeof *k);
        if (!k) return;
        ctx->once = k;
        ctx->caponce = cap;
    }
    snprintf(ctx->once[ctx->nonce++].key, sizeof ctx->once[0].key, "%s", key);
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    mvk_log(ctx, MVK_LOG_INFO, "%s", buf);
}

/* ---- fault injection ---------------------------------------------------------------------- */

#include <stdatomic.h>

static _Atomic uint64_t fault_target[MVK_FAULT_COUNT];
static _Atomic uint64_t fault_seen[MVK_FAULT_COUNT];

void mvk_fault_arm(mvk_fault f, uint64_t k) {
    if ((unsigned)f >= MVK_FAULT_COUNT) return;
    atomic_store(&fault_seen[f], 0);
    atomic_store(&fault_target[f], k);
}

uint64_t mvk_fault_count(mvk_fault f) {
    return (unsigned)f < MVK_FAULT_COUNT ? atomic_load(&fault_seen[f]) : 0;
}

bool mvk_fault_hit(mvk_fault f) {
    uint64_t seen = atomic_fetch_add(&fault_seen[f], 1) + 1;
    uint64_t target = atomic_load(&fault_target[f]);
    return target != 0 && seen == target;
}

void *mvk_malloc(size_t n) {
    if (mvk_fault_hit(MVK_FAULT_HOST_ALLOC)) return NULL;
    return malloc(n ? n : 1);
}

void *mvk_calloc(size_t count, size_t size) {
    if (mvk_fault_hit(MVK_FAULT_HOST_ALLOC)) return NULL;
    return calloc(count ? count : 1, size ? size : 1);
}

void *mvk_realloc(void *p, size_t n) {
    if (mvk_fault_hit(MVK_FAULT_HOST_ALLOC)) return NULL;
    return realloc(p, n ? n : 1);
}

char *mvk_strdup(const char *s) {
    size_t n = strlen(s) + 1;
    char *d = mvk_malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

void mvk_free(void *p) { free(p); }
