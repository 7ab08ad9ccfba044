/* Compute pipelines: created lazily per (shader, specialisation constants) and kept for the
 * context's life; a VkPipelineCache persisted on disk behind a header that must match. */
#include "internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static uint64_t fnv1a(uint64_t h, const void *data, size_t n) {
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

static uint64_t pipe_hash(uint32_t shader, const uint32_t *spec, uint32_t nspec) {
    uint64_t h = fnv1a(0xcbf29ce484222325ull, &shader, sizeof shader);
    return fnv1a(h, spec, nspec * sizeof *spec);
}

mvk_status mvk_pipeline_get(mvk_ctx *ctx, uint32_t shader, const uint32_t *spec, uint32_t nspec,
                            VkPipeline *out) {
    if (shader >= MVK_SHADER_COUNT || nspec > MVK_MAX_SPEC)
        return mvk_fail(ctx, MVK_ERR_INTERNAL, "bad pipeline request (shader %u, %u constants)",
                        shader, nspec);
    uint64_t h = pipe_hash(shader, spec, nspec);
    for (uint32_t i = 0; i < ctx->npipes; i++) {
        const mvk_pipeline_entry *e = &ctx->pipes[i];
        if (e->hash == h && e->shader == shader && e->nspec == nspec &&
            !memcmp(e->spec, spec, nspec * sizeof *spec)) {
            *out = e->pipeline;
            return MVK_OK;
        }
    }
    const mvk_shader_src *src = &mvk_shader_table[shader];
    /* The workgroup size must fit the device: the caller picked it from the device limits, this
     * is the last line of defence against an invalid pipeline. */
    if (nspec >= 3) {
        uint64_t inv = (uint64_t)spec[0] * spec[1] * spec[2];
        if (inv > ctx->info.max_workgroup_invocations || spec[0] > ctx->info.max_workgroup_size[0] ||
            spec[1] > ctx->info.max_workgroup_size[1] || spec[2] > ctx->info.max_workgroup_size[2])
            return mvk_fail(ctx, MVK_ERR_LIMIT, "%s: workgroup %ux%ux%u is above the device limit",
                            src->name, spec[0], spec[1], spec[2]);
    }
    if (ctx->npipes == ctx->cappipes) {
        uint32_t cap = ctx->cappipes ? ctx->cappipes * 2 : 32;
        mvk_pipeline_entry *p = mvk_realloc(ctx->pipes, cap * sizeof *p);
        if (!p) return mvk_fail(ctx, MVK_ERR_OUT_OF_HOST_MEMORY, "cannot grow the pipeline table");
        ctx->pipes = p;
        ctx->cappipes = cap;
    }
    VkShaderModuleCreateInfo mi = {
        .sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO,
        .codeSize = src->size,
        .pCode = src->code,
    };
    VkShaderModule mod;
    MVK_VK(ctx, vkCreateShaderModule(ctx->device, &mi, NULL, &mod));
    VkSpecializationMapEntry map[MVK_MAX_SPEC];
    for (uint32_t i = 0; i < nspec; i++)
        map[i] = (VkSpecializationMapEntry){.constantID = i, .offset = i * 4, .size = 4};
    VkSpecializationInfo si = {
        .mapEntryCount = nspec,
        .pMapEntries = map,
        .dataSize = nspec * 4,
        .pData = spec,
    };
    VkComputePipelineCreateInfo ci = {
        .sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO,
        .stage = {
            .sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
            .stage = VK_SHADER_STAGE_COMPUTE_BIT,
            .module = mod,
            .pName = "main",
            .pSpecializationInfo = nspec ? &si : NULL,
        },
        .layout = ctx->pipe_layout,
    };
    VkPipeline pipe = VK_NULL_HANDLE;
    VkResult r = mvk_fault_hit(MVK_FAULT_PIPELINE)
                     ? VK_ERROR_OUT_OF_HOST_MEMORY
                     : vkCreateComputePipelines(ctx->device, ctx->pipe_cache, 1, &ci, NULL, &pipe);
    vkDestroyShaderModule(ctx->device, mod, NULL);
    if (r != VK_SUCCESS) {
        mvk_status s = mvk_vk_fail(ctx, r, "vkCreateComputePipelines");
        return mvk_fail(ctx, s, "cannot create the pipeline of shader %s: %s", src->name,
                        mvk_vk_result_str(r));
    }
    mvk_pipeline_entry *e = &ctx->pipes[ctx->npipes++];
    memset(e, 0, sizeof *e);
    e->shader = shader;
    e->nspec = nspec;
    memcpy(e->spec, spec, nspec * sizeof *spec);
    e->pipeline = pipe;
    e->hash = h;
    ctx->pipelines_created++;
    mvk_log(ctx, MVK_LOG_DEBUG, "pipeline %s created (%u constants)", src->name, nspec);
    *out = pipe;
    return MVK_OK;
}

void mvk_pipelines_destroy(mvk_ctx *ctx) {
    for (uint32_t i = 0; i < ctx->npipes; i++)
        vkDestroyPipeline(ctx->device, ctx->pipes[i].pipeline, NULL);
    mvk_free(ctx->pipes);
    ctx->pipes = NULL;
    ctx->npipes = ctx->cappipes = 0;
}

/* ---- the on-disk cache ---------------------------------------------------------------------- */

#define CACHE_MAGIC "MVKPIPE1"

typedef struct cache_header {
    char magic[8];
    uint32_t engine_version;
    uint32_t vendor_id, device_id, driver_version;
    uint8_t uuid[VK_UUID_SIZE];
    uint64_t data_size;
    uint64_t data_hash;
} cache_header;

static void fill_header(const mvk_ctx *ctx, cache_header *h) {
    memset(h, 0, sizeof *h);
    memcpy(h->magic, CACHE_MAGIC, 8);
    h->engine_version = VK_MAKE_VERSION(MVK_VERSION_MAJOR, MVK_VERSION_MINOR, MVK_VERSION_PATCH);
    h->vendor_id = ctx->props.vendorID;
    h->device_id = ctx->props.deviceID;
    h->driver_version = ctx->props.driverVersion;
    memcpy(h->uuid, ctx->props.pipelineCacheUUID, VK_UUID_SIZE);
}

static bool cache_dir(char *out, size_t n) {
    const char *xdg = getenv("XDG_CACHE_HOME");
    const char *home = getenv("HOME");
    if (xdg && *xdg) snprintf(out, n, "%s/mimovk", xdg);
    else if (home && *home) snprintf(out, n, "%s/.cache/mimovk", home);
    else return false;
    return true;
}

static void mkdirs(const char *path) {
    char tmp[1024];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            mkdir(tmp, 0755);
            *p = '/';
        }
    mkdir(tmp, 0755);
}

/* Reads the file and returns its driver blob if the header matches this device, else NULL. */
static void *read_cache(mvk_ctx *ctx, size_t *size) {
    FILE *f = fopen(ctx->cache_path, "rb");
    if (!f) return NULL;
    cache_header want, got;
    fill_header(ctx, &want);
    void *data = NULL;
    const char *why = NULL;
    if (fread(&got, sizeof got, 1, f) != 1) why = "too short";
    else if (memcmp(got.magic, want.magic, 8)) why = "not a mimovk pipeline cache";
    else if (got.engine_version != want.engine_version) why = "written by another engine version";
    else if (got.vendor_id != want.vendor_id || got.device_id != want.device_id ||
             got.driver_version != want.driver_version || memcmp(got.uuid, want.uuid, VK_UUID_SIZE))
        why = "written for another device or driver";
    else if (got.data_size == 0 || got.data_size > (256u << 20)) why = "implausible size";
    else if (!(data = mvk_malloc(got.data_size))) why = "out of memory";
    else if (fread(data, 1, got.data_size, f) != got.data_size) why = "truncated";
    else if (fnv1a(0xcbf29ce484222325ull, data, got.data_size) != got.data_hash) why = "checksum mismatch";
    fclose(f);
    if (why) {
        mvk_log(ctx, MVK_LOG_INFO, "ignoring pipeline cache %s: %s", ctx->cache_path, why);
        mvk_free(data);
        return NULL;
    }
    *size = got.data_size;
    return data;
}

mvk_status mvk_pipeline_cache_open(mvk_ctx *ctx) {
    void *data = NULL;
    size_t size = 0;
    char dir[900];
    if (ctx->params.pipeline_cache && cache_dir(dir, sizeof dir)) {
        snprintf(ctx->cache_path, sizeof ctx->cache_path, "%s/pipelines-%04x-%04x.bin", dir,
                 ctx->props.vendorID, ctx->props.deviceID);
        data = read_cache(ctx, &size);
    }
    VkPipelineCacheCreateInfo ci = {
        .sType = VK_STRUCTURE_TYPE_PIPELINE_CACHE_CREATE_INFO,
        .initialDataSize = size,
        .pInitialData = data,
    };
    VkResult r = vkCreatePipelineCache(ctx->device, &ci, NULL, &ctx->pipe_cache);
    if (r != VK_SUCCESS && data) {
        mvk_log(ctx, MVK_LOG_INFO, "ignoring pipeline cache %s: the driver rejected it",
                ctx->cache_path);
        ci.initialDataSize = 0;
        ci.pInitialData = NULL;
        r = vkCreatePipelineCache(ctx->device, &ci, NULL, &ctx->pipe_cache);
    }
    mvk_free(data);
    if (r != VK_SUCCESS) return mvk_vk_fail(ctx, r, "vkCreatePipelineCache");
    if (size) mvk_log(ctx, MVK_LOG_DEBUG, "pipeline cache %s: %zu bytes", ctx->cache_path, size);
    return MVK_OK;
}

/* Saves the cache when this context created pipelines; written to a temporary file and renamed
 * so a crash never leaves a half-written cache. A failure to save is only logged. */
void mvk_pipeline_cache_close(mvk_ctx *ctx) {
    if (!ctx->pipe_cache) return;
    if (ctx->cache_path[0] && ctx->pipelines_created > 0) {
        size_t size = 0;
        void *data = NULL;
        if (vkGetPipelineCacheData(ctx->device, ctx->pipe_cache, &size, NULL) == VK_SUCCESS && size &&
            (data = mvk_malloc(size)) &&
            vkGetPipelineCacheData(ctx->device, ctx->pipe_cache, &size, data) == VK_SUCCESS) {
            char dir[1024], tmp[1100];
            snprintf(dir, sizeof dir, "%s", ctx->cache_path);
            char *slash = strrchr(dir, '/');
            if (slash) *slash = 0;
            mkdirs(dir);
            snprintf(tmp, sizeof tmp, "%s.%ld.tmp", ctx->cache_path, (long)getpid());
            cache_header h;
            fill_header(ctx, &h);
            h.data_size = size;
            h.data_hash = fnv1a(0xcbf29ce484222325ull, data, size);
            FILE *f = fopen(tmp, "wb");
            bool ok = f && fwrite(&h, sizeof h, 1, f) == 1 && fwrite(data, 1, size, f) == size;
            if (f) ok = (fclose(f) == 0) && ok;
            if (ok && rename(tmp, ctx->cache_path) == 0)
                mvk_log(ctx, MVK_LOG_DEBUG, "pipeline cache saved to %s", ctx->cache_path);
            else {
                remove(tmp);
                mvk_log(ctx, MVK_LOG_INFO, "could not save the pipeline cache %s: %s",
                        ctx->cache_path, strerror(errno));
            }
        }
        mvk_free(data);
    }
    vkDestroyPipelineCache(ctx->device, ctx->pipe_cache, NULL);
    ctx->pipe_cache = VK_NULL_HANDLE;
}
