/* The VkFFT binding: batched 1-D R2C / normalised C2R transforms over the last (contiguous) axis.
 *
 * This is the only translation unit that includes vkFFT.h (a build-tree copy of Debian's 1.2.26,
 * patched by third_party/patch_vkfft.cmake; see docs/vkfft.md). VkFFT generates GLSL per plan,
 * compiles it with glslang and creates its own pipelines and descriptor sets; VkFFTAppend then
 * records its dispatches into our command buffer. It calls the global Vulkan entry points, which
 * volk provides (volkLoadInstance runs at context creation).
 *
 * How VkFFT binds memory (1.2.26, single buffer per role): every descriptor starts at byte 0 of
 * the VkBuffer and spans the configured "buffer size" rounded up to 8 bytes; the data offsets
 * (inputBufferOffset / bufferOffset) are added inside the generated shader, in elements. The
 * inverse with inverseReturnToInputBuffer binds the real buffer with the complex buffer's size.
 * So this file requires both ranges to lie in one VkBuffer and gives VkFFT, as both sizes, the
 * span from byte 0 to the later of the two ends, rounded up to 8 bytes; the buffer must reach that
 * far (an arena whose blocks are 16-byte aligned does). Then every shader array covers the data it
 * indexes and no descriptor reaches beyond the buffer. Each direction is its own VkFFT application,
 * made on first use (makeForwardPlanOnly / makeInversePlanOnly), so an op that only needs one
 * direction on a buffer pair compiles only that one.
 */
#include "internal.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

/* vkFFT.h prints the generated shader and glslang's log to stdout when a shader fails to compile.
 * The library never writes to stdout; the failure comes back as a status with the VkFFT code. */
#define printf(...) ((void)0)
#include <vkFFT.h>
#undef printf

/* Plan creation and destruction are serialised process-wide: VkFFT switches the process locale
 * to "C" while it prints shader code (setlocale, restored afterwards), and glslang's process
 * state is shared. Contexts on different threads may make plans at the same time.
 * glslang's process state (built-in symbol tables, ~0.1-0.2 s to build on the development
 * machine) is set up once while any FFT plan that has made a VkFFT application exists, instead of
 * by VkFFT for every application; glslang_refs counts those plans. */
static pthread_mutex_t vkfft_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned glslang_refs;

struct mvk_fft {
    mvk_ctx *ctx;
    uint32_t d;
    uint64_t batches;
    /* VkFFT keeps pointers to these, so they live here, not on a stack. */
    VkBuffer real_buf, cplx_buf;
    VkBuffer cplx_buf_launch;      /* cplx_buf again, at another address (see mvk_fft_record) */
    uint64_t real_size, cplx_size; /* offset + bytes */
    uint64_t real_off, cplx_off;
    VkFence fence;                 /* unsignalled; VkFFT submits its set-up work with it */
    VkFFTApplication *app[2];      /* [0] forward, [1] inverse */
    bool glslang_ref;              /* holds one of glslang_refs */
};

static const char *vkfft_result_str(VkFFTResult r) {
    switch (r) {
    case VKFFT_SUCCESS: return "VKFFT_SUCCESS";
    case VKFFT_ERROR_MALLOC_FAILED: return "VKFFT_ERROR_MALLOC_FAILED";
    case VKFFT_ERROR_INSUFFICIENT_CODE_BUFFER: return "VKFFT_ERROR_INSUFFICIENT_CODE_BUFFER";
    case VKFFT_ERROR_INSUFFICIENT_TEMP_BUFFER: return "VKFFT_ERROR_INSUFFICIENT_TEMP_BUFFER";
    case VKFFT_ERROR_PLAN_NOT_INITIALIZED: return "VKFFT_ERROR_PLAN_NOT_INITIALIZED";
    case VKFFT_ERROR_INVALID_PHYSICAL_DEVICE: return "VKFFT_ERROR_INVALID_PHYSICAL_DEVICE";
    case VKFFT_ERROR_INVALID_DEVICE: return "VKFFT_ERROR_INVALID_DEVICE";
    case VKFFT_ERROR_INVALID_QUEUE: return "VKFFT_ERROR_INVALID_QUEUE";
    case VKFFT_ERROR_INVALID_COMMAND_POOL: return "VKFFT_ERROR_INVALID_COMMAND_POOL";
    case VKFFT_ERROR_INVALID_FENCE: return "VKFFT_ERROR_INVALID_FENCE";
    case VKFFT_ERROR_EMPTY_bufferSize: return "VKFFT_ERROR_EMPTY_bufferSize";
    case VKFFT_ERROR_EMPTY_buffer: return "VKFFT_ERROR_EMPTY_buffer";
    case VKFFT_ERROR_EMPTY_inputBufferSize: return "VKFFT_ERROR_EMPTY_inputBufferSize";
    case VKFFT_ERROR_EMPTY_inputBuffer: return "VKFFT_ERROR_EMPTY_inputBuffer";
    case VKFFT_ERROR_UNSUPPORTED_RADIX: return "VKFFT_ERROR_UNSUPPORTED_RADIX";
    case VKFFT_ERROR_UNSUPPORTED_FFT_LENGTH: return "VKFFT_ERROR_UNSUPPORTED_FFT_LENGTH";
    case VKFFT_ERROR_UNSUPPORTED_FFT_LENGTH_R2C: return "VKFFT_ERROR_UNSUPPORTED_FFT_LENGTH_R2C";
    case VKFFT_ERROR_FAILED_TO_ALLOCATE: return "VKFFT_ERROR_FAILED_TO_ALLOCATE";
    case VKFFT_ERROR_FAILED_TO_SUBMIT_QUEUE: return "VKFFT_ERROR_FAILED_TO_SUBMIT_QUEUE";
    case VKFFT_ERROR_FAILED_TO_WAIT_FOR_FENCES: return "VKFFT_ERROR_FAILED_TO_WAIT_FOR_FENCES";
    case VKFFT_ERROR_FAILED_SHADER_PREPROCESS: return "VKFFT_ERROR_FAILED_SHADER_PREPROCESS";
    case VKFFT_ERROR_FAILED_SHADER_PARSE: return "VKFFT_ERROR_FAILED_SHADER_PARSE";
    case VKFFT_ERROR_FAILED_SHADER_LINK: return "VKFFT_ERROR_FAILED_SHADER_LINK";
    case VKFFT_ERROR_FAILED_SPIRV_GENERATE: return "VKFFT_ERROR_FAILED_SPIRV_GENERATE";
    case VKFFT_ERROR_FAILED_TO_CREATE_SHADER_MODULE: return "VKFFT_ERROR_FAILED_TO_CREATE_SHADER_MODULE";
    case VKFFT_ERROR_FAILED_TO_CREATE_PIPELINE: return "VKFFT_ERROR_FAILED_TO_CREATE_PIPELINE";
    case VKFFT_ERROR_FAILED_TO_CREATE_BUFFER: return "VKFFT_ERROR_FAILED_TO_CREATE_BUFFER";
    case VKFFT_ERROR_FAILED_TO_ALLOCATE_MEMORY: return "VKFFT_ERROR_FAILED_TO_ALLOCATE_MEMORY";
    case VKFFT_ERROR_FAILED_TO_FIND_MEMORY: return "VKFFT_ERROR_FAILED_TO_FIND_MEMORY";
    case VKFFT_ERROR_FAILED_TO_INITIALIZE: return "VKFFT_ERROR_FAILED_TO_INITIALIZE";
    default: return "VkFFT error";
    }
}

/* The status for a VkFFT failure, by the code's family. */
static mvk_status vkfft_status(VkFFTResult r) {
    if (r == VKFFT_ERROR_MALLOC_FAILED) return MVK_ERR_OUT_OF_HOST_MEMORY;
    if (r == VKFFT_ERROR_FAILED_TO_ALLOCATE_MEMORY || r == VKFFT_ERROR_FAILED_TO_FIND_MEMORY)
        return MVK_ERR_OUT_OF_DEVICE_MEMORY;
    if (r >= 3000 && r < 4000) return MVK_ERR_UNSUPPORTED; /* lengths and radices */
    if (r >= 4000) return MVK_ERR_VULKAN;                  /* a Vulkan or glslang call failed */
    return MVK_ERR_INTERNAL;                               /* configuration (1xxx, 2xxx) */
}

mvk_status mvk_fft_create(mvk_ctx *ctx, uint32_t d, uint64_t batches, mvk_binding real,
                          mvk_binding cplx, mvk_fft **out) {
    *out = NULL;
    uint64_t real_bytes = batches * d * 4, cplx_bytes = batches * (d / 2 + 1) * 8;
    if (d < 1 || batches < 1 || !real.buffer || !cplx.buffer)
        return mvk_fail(ctx, MVK_ERR_INTERNAL, "fft: d %u, %llu batches, buffers %p %p", d,
                        (unsigned long long)batches, (void *)real.buffer, (void *)cplx.buffer);
    /* VkFFT addresses from byte 0 of one buffer per role and adds offsets in elements. */
    if (real.buffer != cplx.buffer)
        return mvk_fail(ctx, MVK_ERR_INTERNAL, "fft: the real and complex ranges must lie in "
                        "one buffer (VkFFT binds both from byte 0)");
    /* VkFFT divides offsets by its element size, which is 8 bytes (vec2) for real data too. */
    if (real.offset % 8 || cplx.offset % 8)
        return mvk_fail(ctx, MVK_ERR_INTERNAL, "fft: offsets %llu (real) and %llu (complex) "
                        "are not multiples of 8 bytes", (unsigned long long)real.offset,
                        (unsigned long long)cplx.offset);
    if (real.range < real_bytes || cplx.range < cplx_bytes)
        return mvk_fail(ctx, MVK_ERR_INTERNAL, "fft: ranges of %llu and %llu bytes are too small "
                        "for %llu x %u (need %llu and %llu)", (unsigned long long)real.range,
                        (unsigned long long)cplx.range, (unsigned long long)batches, d,
                        (unsigned long long)real_bytes, (unsigned long long)cplx_bytes);
    uint64_t span = MVK_MAX(real.offset + real_bytes, cplx.offset + cplx_bytes);
    span = (span + 7) / 8 * 8;
    if (span > ctx->info.max_storage_buffer_range)
        return mvk_fail(ctx, MVK_ERR_LIMIT, "fft: VkFFT binds from the start of the buffer, and "
                        "%llu bytes are above maxStorageBufferRange (%llu)",
                        (unsigned long long)span,
                        (unsigned long long)ctx->info.max_storage_buffer_range);

    mvk_fft *f = mvk_calloc(1, sizeof *f);
    if (!f) return mvk_fail(ctx, MVK_ERR_OUT_OF_HOST_MEMORY, "fft: cannot allocate a plan");
    f->ctx = ctx;
    f->d = d;
    f->batches = batches;
    f->real_buf = real.buffer;
    f->cplx_buf = cplx.buffer;
    f->cplx_buf_launch = cplx.buffer;
    f->real_off = real.offset;
    f->cplx_off = cplx.offset;
    /* Both sizes are the common span: VkFFT declares its shader arrays by these sizes and the
     * inverse indexes the real data through the complex size, so an output placed after the
     * spectra would otherwise fall outside its array (and be dropped). */
    f->real_size = span;
    f->cplx_size = span;
    VkFenceCreateInfo fi = {.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
    VkResult r = vkCreateFence(ctx->device, &fi, NULL, &f->fence);
    if (r != VK_SUCCESS) {
        mvk_free(f);
        return mvk_vk_fail(ctx, r, "vkCreateFence");
    }
    *out = f;
    return MVK_OK;
}

/* True when VkFFT will need Bluestein's algorithm: a prime factor above its largest radix, 13. */
static bool needs_bluestein(uint32_t d) {
    for (uint32_t p = 2; p <= 13; p++)
        while (d % p == 0) d /= p;
    return d > 1;
}

/* Makes the VkFFT application of one direction (0 forward, 1 inverse). Bluestein plans of 1.2.26
 * bind the chirp buffers of both directions, so they are made with both (one-direction ones
 * would bind a null buffer). */
static mvk_status make_app(mvk_fft *f, int which) {
    mvk_ctx *ctx = f->ctx;
    VkFFTApplication *app = mvk_calloc(1, sizeof *app);
    if (!app) return mvk_fail(ctx, MVK_ERR_OUT_OF_HOST_MEMORY, "fft: cannot allocate a plan");
    bool both = needs_bluestein(f->d);
    VkFFTConfiguration c = {0};
    c.FFTdim = 1;
    c.size[0] = f->d;
    c.numberBatches = f->batches;
    c.performR2C = 1;
    c.physicalDevice = &ctx->phys;
    c.device = &ctx->device;
    c.queue = &ctx->queue;
    c.commandPool = &ctx->cmd_pool;
    c.fence = &f->fence;
    /* Out of place: real [batches][d] in inputBuffer, complex [batches][d/2+1] in buffer. */
    c.isInputFormatted = 1;
    c.inputBufferNum = 1;
    c.inputBuffer = &f->real_buf;
    c.inputBufferSize = &f->real_size;
    c.inputBufferOffset = f->real_off;
    c.inputBufferStride[0] = f->d;
    c.bufferNum = 1;
    c.buffer = &f->cplx_buf;
    c.bufferSize = &f->cplx_size;
    c.bufferOffset = f->cplx_off;
    c.bufferStride[0] = f->d / 2 + 1;
    c.inverseReturnToInputBuffer = 1;
    c.normalize = 1;
    if (!both) {
        c.makeForwardPlanOnly = which == 0;
        c.makeInversePlanOnly = which == 1;
    }
    c.isCompilerInitialized = 1; /* glslang's process state is ours (glslang_refs) */
    pthread_mutex_lock(&vkfft_lock);
    if (!f->glslang_ref) {
        if (glslang_refs == 0 && !glslang_initialize_process()) {
            pthread_mutex_unlock(&vkfft_lock);
            mvk_free(app);
            return mvk_fail(ctx, MVK_ERR_INTERNAL, "fft: glslang_initialize_process failed");
        }
        glslang_refs++;
        f->glslang_ref = true;
    }
    VkFFTResult res = initializeVkFFT(app, c);
    if (res == VKFFT_SUCCESS && !both && app->useBluesteinFFT[0]) {
        /* Our factor test disagreed with VkFFT's choice: make it again with both directions. */
        deleteVkFFT(app);
        memset(app, 0, sizeof *app);
        c.makeForwardPlanOnly = c.makeInversePlanOnly = 0;
        both = true;
        res = initializeVkFFT(app, c);
    }
    if (res != VKFFT_SUCCESS) deleteVkFFT(app);
    pthread_mutex_unlock(&vkfft_lock);
    if (res != VKFFT_SUCCESS) {
        mvk_free(app);
        return mvk_fail(ctx, vkfft_status(res),
                        "VkFFT initializeVkFFT (%s, d %u, %llu batches) failed: %s (VkFFT code %d)",
                        which ? "C2R" : "R2C", f->d, (unsigned long long)f->batches,
                        vkfft_result_str(res), (int)res);
    }
    f->app[which] = app;
    if (both) f->app[!which] = app; /* one application serves both directions */
    mvk_log(ctx, MVK_LOG_DEBUG, "fft: %s plan d %u, %llu batches", which ? "C2R" : "R2C", f->d,
            (unsigned long long)f->batches);
    return MVK_OK;
}

mvk_status mvk_fft_record(mvk_fft *f, VkCommandBuffer cb, int dir) {
    if (!f) return MVK_ERR_INTERNAL;
    if (dir != -1 && dir != 1) return mvk_fail(f->ctx, MVK_ERR_INTERNAL, "fft: direction %d", dir);
    int which = dir == 1;
    if (!f->app[which]) MVK_TRY(make_app(f, which));
    VkFFTLaunchParams lp = {0};
    lp.commandBuffer = &cb;
    /* VkFFTAppend resets the configured offsets to the launch ones: pass the same. */
    lp.inputBufferOffset = f->real_off;
    lp.bufferOffset = f->cplx_off;
    /* Bluestein plans wrote their descriptor sets before VkFFT made the Bluestein buffers (the
     * patched header skips those null writes); a buffer pointer VkFFT has not seen makes it
     * rewrite every set now. Later appends pass the same pointer and rewrite nothing, so sets
     * already bound in recorded command buffers stay untouched. */
    if (f->app[which]->useBluesteinFFT[0]) lp.buffer = &f->cplx_buf_launch;
    VkFFTResult res = VkFFTAppend(f->app[which], dir, &lp);
    if (res != VKFFT_SUCCESS)
        return mvk_fail(f->ctx, vkfft_status(res), "VkFFTAppend (%s, d %u) failed: %s (VkFFT code %d)",
                        which ? "C2R" : "R2C", f->d, vkfft_result_str(res), (int)res);
    return MVK_OK;
}

void mvk_fft_destroy(void *p) {
    mvk_fft *f = p;
    if (!f) return;
    pthread_mutex_lock(&vkfft_lock);
    for (int i = 0; i < 2; i++) {
        if (!f->app[i] || (i == 1 && f->app[1] == f->app[0])) continue;
        deleteVkFFT(f->app[i]);
        mvk_free(f->app[i]);
    }
    if (f->glslang_ref && --glslang_refs == 0) glslang_finalize_process();
    pthread_mutex_unlock(&vkfft_lock);
    if (f->fence) vkDestroyFence(f->ctx->device, f->fence, NULL);
    mvk_free(f);
}
