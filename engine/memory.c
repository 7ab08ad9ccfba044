/* Device memory: one VkBuffer per allocation, memory types chosen per device class, and the
 * persistent buffers (weights) of the public API. */
#include "internal.h"

#include <string.h>

static int find_type(const mvk_ctx *ctx, uint32_t bits, VkMemoryPropertyFlags want,
                     VkMemoryPropertyFlags avoid) {
    for (uint32_t i = 0; i < ctx->memprops.memoryTypeCount; i++) {
        VkMemoryPropertyFlags f = ctx->memprops.memoryTypes[i].propertyFlags;
        if ((bits & (1u << i)) && (f & want) == want && !(f & avoid)) return (int)i;
    }
    return -1;
}

mvk_status mvk_mem_alloc(mvk_ctx *ctx, uint64_t size, mvk_mem_kind kind, mvk_mem *out) {
    memset(out, 0, sizeof *out);
    if (size == 0) size = 16;
    if (ctx->info.max_alloc_size && size > ctx->info.max_alloc_size)
        return mvk_fail(ctx, MVK_ERR_LIMIT,
                        "allocation of %llu bytes is above the device's maxMemoryAllocationSize "
                        "(%llu bytes)",
                        (unsigned long long)size, (unsigned long long)ctx->info.max_alloc_size);
    VkBufferCreateInfo bi = {
        .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
        .size = size,
        .usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT |
                 VK_BUFFER_USAGE_TRANSFER_DST_BIT,
        .sharingMode = VK_SHARING_MODE_EXCLUSIVE,
    };
    MVK_VK(ctx, vkCreateBuffer(ctx->device, &bi, NULL, &out->buffer));
    VkMemoryRequirements req;
    vkGetBufferMemoryRequirements(ctx->device, out->buffer, &req);

    const VkMemoryPropertyFlags vis = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT |
                                      VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
    int type = -1;
    if (kind == MVK_MEM_STAGING) {
        type = find_type(ctx, req.memoryTypeBits, vis | VK_MEMORY_PROPERTY_HOST_CACHED_BIT, 0);
        if (type < 0) type = find_type(ctx, req.memoryTypeBits, vis, 0);
    } else if (ctx->info.unified_memory) {
        type = find_type(ctx, req.memoryTypeBits, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT | vis, 0);
    } else {
        type = find_type(ctx, req.memoryTypeBits, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT,
                         VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT);
        if (type < 0)
            type = find_type(ctx, req.memoryTypeBits, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, 0);
    }
    if (type < 0) type = find_type(ctx, req.memoryTypeBits, 0, 0);
    if (type < 0) {
        vkDestroyBuffer(ctx->device, out->buffer, NULL);
        out->buffer = VK_NULL_HANDLE;
        return mvk_fail(ctx, MVK_ERR_OUT_OF_DEVICE_MEMORY, "no memory type fits a buffer");
    }
    VkMemoryAllocateInfo ai = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
        .allocationSize = req.size,
        .memoryTypeIndex = (uint32_t)type,
    };
    VkResult r = mvk_fault_hit(MVK_FAULT_DEVICE_ALLOC)
                     ? VK_ERROR_OUT_OF_DEVICE_MEMORY
                     : vkAllocateMemory(ctx->device, &ai, NULL, &out->memory);
    if (r != VK_SUCCESS) {
        vkDestroyBuffer(ctx->device, out->buffer, NULL);
        out->buffer = VK_NULL_HANDLE;
        out->memory = VK_NULL_HANDLE;
        mvk_status s = mvk_vk_fail(ctx, r, "vkAllocateMemory");
        return mvk_fail(ctx, s, "cannot allocate %llu bytes of device memory: %s",
                        (unsigned long long)size, mvk_vk_result_str(r));
    }
    r = vkBindBufferMemory(ctx->device, out->buffer, out->memory, 0);
    if (r == VK_SUCCESS &&
        (ctx->memprops.memoryTypes[type].propertyFlags & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT))
        r = vkMapMemory(ctx->device, out->memory, 0, VK_WHOLE_SIZE, 0, &out->map);
    if (r != VK_SUCCESS) {
        mvk_mem_free(ctx, out);
        return mvk_vk_fail(ctx, r, "vkBindBufferMemory/vkMapMemory");
    }
    out->size = size;
    ctx->device_bytes += size;
    return MVK_OK;
}

void mvk_mem_free(mvk_ctx *ctx, mvk_mem *m) {
    if (!ctx || !m) return;
    if (m->buffer) vkDestroyBuffer(ctx->device, m->buffer, NULL);
    if (m->memory) {
        vkFreeMemory(ctx->device, m->memory, NULL);
        ctx->device_bytes -= MVK_MIN(ctx->device_bytes, m->size);
    }
    memset(m, 0, sizeof *m);
}

mvk_status mvk_oneoff_begin(mvk_ctx *ctx, VkCommandBuffer *cb) {
    VkCommandBufferAllocateInfo ai = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
        .commandPool = ctx->cmd_pool,
        .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
        .commandBufferCount = 1,
    };
    MVK_VK(ctx, vkAllocateCommandBuffers(ctx->device, &ai, cb));
    VkCommandBufferBeginInfo bi = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
        .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT,
    };
    VkResult r = vkBeginCommandBuffer(*cb, &bi);
    if (r != VK_SUCCESS) {
        vkFreeCommandBuffers(ctx->device, ctx->cmd_pool, 1, cb);
        return mvk_vk_fail(ctx, r, "vkBeginCommandBuffer");
    }
    return MVK_OK;
}

mvk_status mvk_submit_wait(mvk_ctx *ctx, VkCommandBuffer cb, VkFence fence) {
    VkSubmitInfo si = {
        .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
        .commandBufferCount = 1,
        .pCommandBuffers = &cb,
    };
    MVK_VK(ctx, vkResetFences(ctx->device, 1, &fence));
    if (mvk_fault_hit(MVK_FAULT_DEVICE_LOST))
        return mvk_vk_fail(ctx, VK_ERROR_DEVICE_LOST, "vkQueueSubmit (injected)");
    MVK_VK(ctx, vkQueueSubmit(ctx->queue, 1, &si, fence));
    /* Wait in slices so a hung device becomes a status instead of a hang (60 s in all). */
    for (int i = 0;; i++) {
        VkResult r = vkWaitForFences(ctx->device, 1, &fence, VK_TRUE, 1000000000ull);
        if (r == VK_SUCCESS) return MVK_OK;
        if (r != VK_TIMEOUT) return mvk_vk_fail(ctx, r, "vkWaitForFences");
        if (i >= 60)
            return mvk_fail(ctx, MVK_ERR_DEVICE_LOST, "the device did not finish within 60 s");
    }
}

mvk_status mvk_oneoff_submit(mvk_ctx *ctx, VkCommandBuffer cb) {
    VkResult r = vkEndCommandBuffer(cb);
    mvk_status s = r == VK_SUCCESS ? mvk_submit_wait(ctx, cb, ctx->fence)
                                   : mvk_vk_fail(ctx, r, "vkEndCommandBuffer");
    vkFreeCommandBuffers(ctx->device, ctx->cmd_pool, 1, &cb);
    return s;
}

/* ---- public buffers ----------------------------------------------------------------------- */

uint64_t mvk_buffer_alignment(const mvk_ctx *ctx) {
    uint64_t a = ctx ? ctx->info.min_storage_offset_align : 256;
    return a < 16 ? 16 : a;
}

mvk_status mvk_buffer_create(mvk_ctx *ctx, uint64_t bytes, mvk_buffer **out) {
    if (!ctx || !out) return MVK_ERR_INVALID_ARG;
    *out = NULL;
    mvk_buffer *b = mvk_calloc(1, sizeof *b);
    if (!b) return mvk_fail(ctx, MVK_ERR_OUT_OF_HOST_MEMORY, "cannot allocate a buffer handle");
    b->ctx = ctx;
    mvk_status s = mvk_mem_alloc(ctx, bytes, MVK_MEM_DEVICE, &b->mem);
    if (s != MVK_OK) {
        mvk_free(b);
        return s;
    }
    *out = b;
    return MVK_OK;
}

/* Copies through a staging buffer when the device memory is not mapped. */
static mvk_status staged_copy(mvk_buffer *buf, uint64_t offset, void *host, uint64_t bytes,
                              bool upload) {
    mvk_ctx *ctx = buf->ctx;
    if (offset > buf->mem.size || bytes > buf->mem.size - offset)
        return mvk_fail(ctx, MVK_ERR_INVALID_ARG,
                        "copy of %llu bytes at offset %llu is outside a buffer of %llu bytes",
                        (unsigned long long)bytes, (unsigned long long)offset,
                        (unsigned long long)buf->mem.size);
    if (bytes == 0) return MVK_OK;
    if (buf->mem.map) {
        if (upload) memcpy((char *)buf->mem.map + offset, host, bytes);
        else memcpy(host, (char *)buf->mem.map + offset, bytes);
        return MVK_OK;
    }
    /* Chunks of at most 64 MiB keep staging small for large weight files. */
    const uint64_t chunk = 64ull << 20;
    mvk_mem st;
    MVK_TRY(mvk_mem_alloc(ctx, MVK_MIN(bytes, chunk), MVK_MEM_STAGING, &st));
    mvk_status s = MVK_OK;
    for (uint64_t done = 0; done < bytes && s == MVK_OK;) {
        uint64_t n = MVK_MIN(chunk, bytes - done);
        if (upload) memcpy(st.map, (const char *)host + done, n);
        VkCommandBuffer cb;
        if ((s = mvk_oneoff_begin(ctx, &cb)) != MVK_OK) break;
        VkBufferCopy c = {
            .srcOffset = upload ? 0 : offset + done,
            .dstOffset = upload ? offset + done : 0,
            .size = n,
        };
        vkCmdCopyBuffer(cb, upload ? st.buffer : buf->mem.buffer, upload ? buf->mem.buffer : st.buffer,
                        1, &c);
        if ((s = mvk_oneoff_submit(ctx, cb)) != MVK_OK) break;
        if (!upload) memcpy((char *)host + done, st.map, n);
        done += n;
    }
    mvk_mem_free(ctx, &st);
    return s;
}

mvk_status mvk_buffer_upload(mvk_buffer *buf, uint64_t offset, const void *data, uint64_t bytes) {
    if (!buf || (!data && bytes)) return MVK_ERR_INVALID_ARG;
    return staged_copy(buf, offset, (void *)data, bytes, true);
}

mvk_status mvk_buffer_download(mvk_buffer *buf, uint64_t offset, void *data, uint64_t bytes) {
    if (!buf || (!data && bytes)) return MVK_ERR_INVALID_ARG;
    return staged_copy(buf, offset, data, bytes, false);
}

void mvk_buffer_destroy(mvk_buffer *buf) {
    if (!buf) return;
    mvk_mem_free(buf->ctx, &buf->mem);
    mvk_free(buf);
}
