/* Plans: a graph fixed to memory (an activation arena planned from tensor lifetimes), pipelines
 * and one command buffer recorded once and submitted on every run. */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

#define SETS_PER_POOL 64

typedef struct deferred {
    void (*fn)(void *);
    void *obj;
} deferred;

struct mvk_plan {
    mvk_ctx *ctx;
    mvk_graph *g;
    mvk_mem arena;      /* activations, inputs, outputs, workspaces */
    mvk_mem staging;    /* inputs and outputs on devices without unified memory */
    uint64_t *off;      /* per tensor: offset in the arena (bases only) */
    uint64_t *stage;    /* per tensor: offset in staging (inputs and outputs), or UINT64_MAX */
    uint64_t *ws_off;   /* per node: workspace offset, size */
    uint64_t *ws_size;
    VkCommandBuffer cb;
    VkFence fence;
    VkDescriptorPool *pools;
    uint32_t npools, sets_left;
    VkQueryPool queries;
    double *node_ms;
    deferred *defer;
    uint32_t ndefer, capdefer;
    uint64_t arena_bytes;
};

struct mvk_rec {
    mvk_plan *p;
    int node;
    bool dirty; /* a dispatch was recorded since the last barrier */
};

/* ---- lifetimes and the arena ------------------------------------------------------------ */

static mvk_tensor_id base_of(const mvk_graph *g, mvk_tensor_id t) {
    return g->tensors[t].kind == MVK_TENSOR_VIEW ? g->tensors[t].base : t;
}

typedef struct block {
    int first, last;   /* node range in which the memory is live */
    uint64_t size;
    uint64_t off;
    int tensor;        /* tensor id, or -1 - node for a workspace */
} block;

static int by_size_desc(const void *a, const void *b) {
    const block *x = a, *y = b;
    return x->size < y->size ? 1 : x->size > y->size ? -1 : 0;
}

/* Greedy best-offset placement, largest first: each block goes at the lowest offset that does
 * not overlap a placed block whose lifetime overlaps its own. */
static uint64_t place_blocks(block *b, int n, uint64_t align) {
    qsort(b, (size_t)n, sizeof *b, by_size_desc);
    uint64_t total = 0;
    for (int i = 0; i < n; i++) {
        uint64_t off = 0;
        for (bool moved = true; moved;) {
            moved = false;
            for (int j = 0; j < i; j++) {
                if (b[j].last < b[i].first || b[i].last < b[j].first) continue;
                if (off < b[j].off + b[j].size && b[j].off < off + b[i].size) {
                    off = (b[j].off + b[j].size + align - 1) / align * align;
                    moved = true;
                }
            }
        }
        b[i].off = off;
        total = MVK_MAX(total, off + b[i].size);
    }
    return total;
}

static uint64_t align_up(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }

static mvk_status plan_memory(mvk_plan *p) {
    mvk_ctx *ctx = p->ctx;
    const mvk_graph *g = p->g;
    int nt = g->ntensors, nn = g->nnodes;
    int *first = mvk_malloc((size_t)(nt ? nt : 1) * sizeof(int));
    int *last = mvk_malloc((size_t)(nt ? nt : 1) * sizeof(int));
    block *blocks = mvk_calloc((size_t)(nt + nn + 1), sizeof *blocks);
    if (!first || !last || !blocks) {
        mvk_free(first);
        mvk_free(last);
        mvk_free(blocks);
        return mvk_fail(ctx, MVK_ERR_OUT_OF_HOST_MEMORY, "cannot plan memory");
    }
    for (int t = 0; t < nt; t++) {
        first[t] = g->tensors[t].kind == MVK_TENSOR_INPUT ? 0 : -1;
        last[t] = g->tensors[t].kind == MVK_TENSOR_INPUT ? 0 : -1;
    }
    for (int i = 0; i < nn; i++) {
        const mvk_node *n = &g->nodes[i];
        for (int s = 0; s < MVK_MAX_SRC; s++) {
            if (n->src[s] < 0) continue;
            int b = base_of(g, n->src[s]);
            if (first[b] < 0) first[b] = i;
            last[b] = MVK_MAX(last[b], i);
        }
        int d = base_of(g, n->dst);
        if (first[d] < 0) first[d] = i;
        last[d] = MVK_MAX(last[d], i);
    }
    for (int t = 0; t < nt; t++)
        if (g->tensors[t].output) last[base_of(g, t)] = nn;

    uint64_t align = mvk_buffer_alignment(ctx);
    int nb = 0;
    mvk_status s = MVK_OK;
    for (int t = 0; t < nt && s == MVK_OK; t++) {
        const mvk_tensor *x = &g->tensors[t];
        uint64_t bytes = (uint64_t)mvk_tensor_numel(x) * 4;
        if (bytes > ctx->info.max_storage_buffer_range)
            s = mvk_fail(ctx, MVK_ERR_LIMIT,
                         "tensor %s is %llu bytes, above the device's maxStorageBufferRange "
                         "(%llu bytes); use a smaller batch",
                         x->name, (unsigned long long)bytes,
                         (unsigned long long)ctx->info.max_storage_buffer_range);
        if (x->kind == MVK_TENSOR_WEIGHT || x->kind == MVK_TENSOR_VIEW || first[t] < 0) continue;
        blocks[nb++] = (block){first[t], last[t], align_up(bytes, align), 0, t};
    }
    for (int i = 0; i < nn && s == MVK_OK; i++) {
        const mvk_op_impl *impl = mvk_op_get(g->nodes[i].op);
        p->ws_size[i] = impl->workspace ? impl->workspace(g, &g->nodes[i]) : 0;
        if (p->ws_size[i])
            blocks[nb++] = (block){i, i, align_up(p->ws_size[i], align), 0, -1 - i};
    }
    if (s == MVK_OK) {
        p->arena_bytes = place_blocks(blocks, nb, align);
        for (int i = 0; i < nb; i++) {
            if (blocks[i].tensor >= 0) p->off[blocks[i].tensor] = blocks[i].off;
            else p->ws_off[-1 - blocks[i].tensor] = blocks[i].off;
        }
        s = mvk_mem_alloc(ctx, p->arena_bytes, MVK_MEM_DEVICE, &p->arena);
    }
    /* Without unified memory, inputs and outputs pass through a staging buffer. */
    if (s == MVK_OK && !p->arena.map) {
        uint64_t st = 0;
        for (int t = 0; t < nt; t++) {
            const mvk_tensor *x = &g->tensors[t];
            if (x->kind != MVK_TENSOR_INPUT && !x->output) continue;
            p->stage[t] = st;
            st += align_up((uint64_t)mvk_tensor_numel(x) * 4, align);
        }
        s = mvk_mem_alloc(ctx, st, MVK_MEM_STAGING, &p->staging);
    }
    mvk_free(first);
    mvk_free(last);
    mvk_free(blocks);
    return s;
}

/* ---- recording ------------------------------------------------------------------------------ */

mvk_binding mvk_rec_tensor(const mvk_rec *r, mvk_tensor_id t) {
    const mvk_plan *p = r->p;
    const mvk_tensor *x = &p->g->tensors[t];
    uint64_t bytes = (uint64_t)mvk_tensor_numel(x) * 4;
    if (x->kind == MVK_TENSOR_WEIGHT) return (mvk_binding){x->buf->mem.buffer, x->offset, bytes};
    return (mvk_binding){p->arena.buffer, p->off[base_of(p->g, t)], bytes};
}

mvk_binding mvk_rec_workspace(const mvk_rec *r) {
    const mvk_plan *p = r->p;
    return (mvk_binding){p->arena.buffer, p->ws_off[r->node], p->ws_size[r->node]};
}

VkCommandBuffer mvk_rec_cmd(const mvk_rec *r) { return r->p->cb; }
mvk_ctx *mvk_rec_ctx(const mvk_rec *r) { return r->p->ctx; }
const mvk_graph *mvk_rec_graph(const mvk_rec *r) { return r->p->g; }

void mvk_rec_barrier(mvk_rec *r) {
    VkMemoryBarrier mb = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
        .srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
        .dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT,
    };
    vkCmdPipelineBarrier(r->p->cb, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
                         VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, 0, 1, &mb, 0, NULL, 0, NULL);
    r->dirty = false;
}

mvk_status mvk_rec_defer(mvk_rec *r, void (*fn)(void *), void *obj) {
    mvk_plan *p = r->p;
    if (p->ndefer == p->capdefer) {
        uint32_t cap = p->capdefer ? p->capdefer * 2 : 8;
        deferred *d = mvk_realloc(p->defer, cap * sizeof *d);
        if (!d) {
            fn(obj);
            return mvk_fail(p->ctx, MVK_ERR_OUT_OF_HOST_MEMORY, "cannot grow a plan");
        }
        p->defer = d;
        p->capdefer = cap;
    }
    p->defer[p->ndefer++] = (deferred){fn, obj};
    return MVK_OK;
}

static mvk_status alloc_set(mvk_plan *p, VkDescriptorSet *set) {
    mvk_ctx *ctx = p->ctx;
    if (p->sets_left == 0) {
        VkDescriptorPool *pools = mvk_realloc(p->pools, (p->npools + 1) * sizeof *pools);
        if (!pools) return mvk_fail(ctx, MVK_ERR_OUT_OF_HOST_MEMORY, "cannot grow descriptor pools");
        p->pools = pools;
        VkDescriptorPoolSize ps = {VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, SETS_PER_POOL * MVK_BINDINGS};
        VkDescriptorPoolCreateInfo ci = {
            .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO,
            .maxSets = SETS_PER_POOL,
            .poolSizeCount = 1,
            .pPoolSizes = &ps,
        };
        MVK_VK(ctx, vkCreateDescriptorPool(ctx->device, &ci, NULL, &p->pools[p->npools]));
        p->npools++;
        p->sets_left = SETS_PER_POOL;
    }
    VkDescriptorSetAllocateInfo ai = {
        .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO,
        .descriptorPool = p->pools[p->npools - 1],
        .descriptorSetCount = 1,
        .pSetLayouts = &ctx->set_layout,
    };
    MVK_VK(ctx, vkAllocateDescriptorSets(ctx->device, &ai, set));
    p->sets_left--;
    return MVK_OK;
}

mvk_status mvk_rec_dispatch(mvk_rec *r, uint32_t shader, const uint32_t *spec, uint32_t nspec,
                            const mvk_binding *b, uint32_t nb, const void *push,
                            uint32_t push_bytes, uint32_t gx, uint32_t gy, uint32_t gz) {
    mvk_plan *p = r->p;
    mvk_ctx *ctx = p->ctx;
    if (nb > MVK_BINDINGS || push_bytes > MVK_PUSH_BYTES)
        return mvk_fail(ctx, MVK_ERR_INTERNAL, "%s: %u bindings, %u push bytes",
                        mvk_shader_table[shader].name, nb, push_bytes);
    const uint32_t *maxg = ctx->info.max_workgroup_count;
    if (gx == 0 || gy == 0 || gz == 0) return MVK_OK; /* nothing to do */
    if (gx > maxg[0] || gy > maxg[1] || gz > maxg[2])
        return mvk_fail(ctx, MVK_ERR_LIMIT, "%s: %u x %u x %u workgroups exceed the device limit",
                        mvk_shader_table[shader].name, gx, gy, gz);
    for (uint32_t i = 0; i < nb; i++)
        if (b[i].range > ctx->info.max_storage_buffer_range)
            return mvk_fail(ctx, MVK_ERR_LIMIT, "%s: binding %u is %llu bytes, above "
                            "maxStorageBufferRange", mvk_shader_table[shader].name, i,
                            (unsigned long long)b[i].range);
    VkPipeline pipe;
    MVK_TRY(mvk_pipeline_get(ctx, shader, spec, nspec, &pipe));
    VkDescriptorSet set;
    MVK_TRY(alloc_set(p, &set));
    VkDescriptorBufferInfo bi[MVK_BINDINGS];
    VkWriteDescriptorSet w[MVK_BINDINGS];
    for (uint32_t i = 0; i < MVK_BINDINGS; i++) {
        bool used = i < nb && b[i].buffer;
        bi[i] = used ? (VkDescriptorBufferInfo){b[i].buffer, b[i].offset, b[i].range ? b[i].range : 4}
                     : (VkDescriptorBufferInfo){ctx->dummy.buffer, 0, ctx->dummy.size};
        w[i] = (VkWriteDescriptorSet){
            .sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
            .dstSet = set,
            .dstBinding = i,
            .descriptorCount = 1,
            .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
            .pBufferInfo = &bi[i],
        };
    }
    vkUpdateDescriptorSets(ctx->device, MVK_BINDINGS, w, 0, NULL);
    if (r->dirty) mvk_rec_barrier(r);
    vkCmdBindPipeline(p->cb, VK_PIPELINE_BIND_POINT_COMPUTE, pipe);
    vkCmdBindDescriptorSets(p->cb, VK_PIPELINE_BIND_POINT_COMPUTE, ctx->pipe_layout, 0, 1, &set, 0,
                            NULL);
    if (push_bytes)
        vkCmdPushConstants(p->cb, ctx->pipe_layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, push_bytes, push);
    vkCmdDispatch(p->cb, gx, gy, gz);
    r->dirty = true;
    return MVK_OK;
}

void mvk_split_groups(const mvk_ctx *ctx, uint64_t groups, uint32_t *gx, uint32_t *gy) {
    uint64_t maxx = ctx->info.max_workgroup_count[0];
    if (groups <= maxx) {
        *gx = (uint32_t)groups;
        *gy = 1;
    } else {
        *gy = (uint32_t)MVK_CEIL_DIV(groups, maxx);
        *gx = (uint32_t)MVK_CEIL_DIV(groups, *gy);
    }
}

static void transfer_barrier(VkCommandBuffer cb, VkAccessFlags src, VkAccessFlags dst,
                             VkPipelineStageFlags ss, VkPipelineStageFlags ds) {
    VkMemoryBarrier mb = {.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER, .srcAccessMask = src,
                          .dstAccessMask = dst};
    vkCmdPipelineBarrier(cb, ss, ds, 0, 1, &mb, 0, NULL, 0, NULL);
}

static mvk_status record(mvk_plan *p) {
    mvk_ctx *ctx = p->ctx;
    const mvk_graph *g = p->g;
    VkCommandBufferAllocateInfo ai = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
        .commandPool = ctx->cmd_pool,
        .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
        .commandBufferCount = 1,
    };
    MVK_VK(ctx, vkAllocateCommandBuffers(ctx->device, &ai, &p->cb));
    VkCommandBufferBeginInfo bi = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
    MVK_VK(ctx, vkBeginCommandBuffer(p->cb, &bi));
    if (p->queries) vkCmdResetQueryPool(p->cb, p->queries, 0, (uint32_t)g->nnodes + 1);

    if (p->staging.buffer) {
        for (int t = 0; t < g->ntensors; t++) {
            if (g->tensors[t].kind != MVK_TENSOR_INPUT) continue;
            VkBufferCopy c = {p->stage[t], p->off[t], (uint64_t)mvk_tensor_numel(&g->tensors[t]) * 4};
            vkCmdCopyBuffer(p->cb, p->staging.buffer, p->arena.buffer, 1, &c);
        }
        transfer_barrier(p->cb, VK_ACCESS_TRANSFER_WRITE_BIT, VK_ACCESS_SHADER_READ_BIT,
                         VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT);
    }
    if (p->queries)
        vkCmdWriteTimestamp(p->cb, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, p->queries, 0);
    mvk_rec r = {.p = p};
    for (int i = 0; i < g->nnodes; i++) {
        r.node = i;
        const mvk_op_impl *impl = mvk_op_get(g->nodes[i].op);
        mvk_status s = impl->record(&r, &g->nodes[i]);
        if (s != MVK_OK) return mvk_fail(ctx, s, "recording node %d (%s): %s", i, impl->name,
                                         ctx->error);
        if (p->queries)
            vkCmdWriteTimestamp(p->cb, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, p->queries,
                                (uint32_t)i + 1);
    }
    if (p->staging.buffer) {
        transfer_barrier(p->cb, VK_ACCESS_SHADER_WRITE_BIT, VK_ACCESS_TRANSFER_READ_BIT,
                         VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT);
        for (int t = 0; t < g->ntensors; t++) {
            if (!g->tensors[t].output) continue;
            mvk_binding b = mvk_rec_tensor(&r, t);
            VkBufferCopy c = {b.offset, p->stage[t], b.range};
            if (g->tensors[t].kind == MVK_TENSOR_WEIGHT) continue; /* read from the buffer */
            vkCmdCopyBuffer(p->cb, p->arena.buffer, p->staging.buffer, 1, &c);
        }
        transfer_barrier(p->cb, VK_ACCESS_TRANSFER_WRITE_BIT, VK_ACCESS_HOST_READ_BIT,
                         VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_HOST_BIT);
    } else {
        transfer_barrier(p->cb, VK_ACCESS_SHADER_WRITE_BIT, VK_ACCESS_HOST_READ_BIT,
                         VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_PIPELINE_STAGE_HOST_BIT);
    }
    MVK_VK(ctx, vkEndCommandBuffer(p->cb));
    return MVK_OK;
}

/* ---- public --------------------------------------------------------------------------------- */

mvk_status mvk_plan_create(mvk_ctx *ctx, mvk_graph *g, mvk_plan **out) {
    if (!ctx || !g || !out) return MVK_ERR_INVALID_ARG;
    *out = NULL;
    if (g->ctx != ctx) return mvk_fail(ctx, MVK_ERR_INVALID_ARG, "the graph belongs to another context");
    mvk_plan *p = mvk_calloc(1, sizeof *p);
    if (!p) return mvk_fail(ctx, MVK_ERR_OUT_OF_HOST_MEMORY, "cannot allocate a plan");
    p->ctx = ctx;
    p->g = g;
    size_t nt = (size_t)g->ntensors + 1, nn = (size_t)g->nnodes + 1;
    p->off = mvk_calloc(nt, sizeof *p->off);
    p->stage = mvk_calloc(nt, sizeof *p->stage);
    p->ws_off = mvk_calloc(nn, sizeof *p->ws_off);
    p->ws_size = mvk_calloc(nn, sizeof *p->ws_size);
    p->node_ms = mvk_calloc(nn, sizeof *p->node_ms);
    mvk_status s = MVK_OK;
    if (!p->off || !p->stage || !p->ws_off || !p->ws_size || !p->node_ms)
        s = mvk_fail(ctx, MVK_ERR_OUT_OF_HOST_MEMORY, "cannot allocate a plan");
    for (size_t i = 0; s == MVK_OK && i < nn; i++) p->node_ms[i] = -1;
    if (s == MVK_OK) s = plan_memory(p);
    if (s == MVK_OK) {
        VkFenceCreateInfo fi = {.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
        VkResult r = vkCreateFence(ctx->device, &fi, NULL, &p->fence);
        if (r != VK_SUCCESS) s = mvk_vk_fail(ctx, r, "vkCreateFence");
    }
    if (s == MVK_OK && ctx->profile) {
        VkQueryPoolCreateInfo qi = {
            .sType = VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO,
            .queryType = VK_QUERY_TYPE_TIMESTAMP,
            .queryCount = (uint32_t)g->nnodes + 1,
        };
        VkResult r = vkCreateQueryPool(ctx->device, &qi, NULL, &p->queries);
        if (r != VK_SUCCESS) s = mvk_vk_fail(ctx, r, "vkCreateQueryPool");
    }
    if (s == MVK_OK) s = record(p);
    if (s != MVK_OK) {
        mvk_plan_destroy(p);
        return s;
    }
    mvk_log(ctx, MVK_LOG_DEBUG, "plan: %d nodes, arena %llu bytes, %u descriptor pools", g->nnodes,
            (unsigned long long)p->arena_bytes, p->npools);
    *out = p;
    return MVK_OK;
}

void mvk_plan_destroy(mvk_plan *p) {
    if (!p) return;
    mvk_ctx *ctx = p->ctx;
    for (uint32_t i = p->ndefer; i-- > 0;) p->defer[i].fn(p->defer[i].obj);
    mvk_free(p->defer);
    if (p->cb) vkFreeCommandBuffers(ctx->device, ctx->cmd_pool, 1, &p->cb);
    for (uint32_t i = 0; i < p->npools; i++) vkDestroyDescriptorPool(ctx->device, p->pools[i], NULL);
    mvk_free(p->pools);
    if (p->queries) vkDestroyQueryPool(ctx->device, p->queries, NULL);
    if (p->fence) vkDestroyFence(ctx->device, p->fence, NULL);
    mvk_mem_free(ctx, &p->arena);
    mvk_mem_free(ctx, &p->staging);
    mvk_free(p->off);
    mvk_free(p->stage);
    mvk_free(p->ws_off);
    mvk_free(p->ws_size);
    mvk_free(p->node_ms);
    mvk_free(p);
}

static mvk_status host_ptr(mvk_plan *p, mvk_tensor_id t, uint64_t count, bool writing, float **ptr) {
    mvk_ctx *ctx = p->ctx;
    const mvk_tensor *x = mvk_graph_tensor(p->g, t);
    if (!x) return mvk_fail(ctx, MVK_ERR_INVALID_ARG, "tensor %d is not in the plan's graph", t);
    if (writing && x->kind != MVK_TENSOR_INPUT)
        return mvk_fail(ctx, MVK_ERR_INVALID_ARG, "tensor %s is not an input", x->name);
    if (!writing && !x->output)
        return mvk_fail(ctx, MVK_ERR_INVALID_ARG, "tensor %s is not an output", x->name);
    if (count != (uint64_t)mvk_tensor_numel(x))
        return mvk_fail(ctx, MVK_ERR_INVALID_ARG, "tensor %s has %lld elements, not %llu", x->name,
                        (long long)mvk_tensor_numel(x), (unsigned long long)count);
    if (x->kind == MVK_TENSOR_WEIGHT) return mvk_fail(ctx, MVK_ERR_INVALID_ARG, "tensor %s is a weight", x->name);
    *ptr = p->arena.map ? (float *)((char *)p->arena.map + p->off[base_of(p->g, t)])
                        : (float *)((char *)p->staging.map + p->stage[t]);
    return MVK_OK;
}

mvk_status mvk_plan_write(mvk_plan *p, mvk_tensor_id t, const float *data, uint64_t count) {
    if (!p || !data) return MVK_ERR_INVALID_ARG;
    float *dst = NULL;
    MVK_TRY(host_ptr(p, t, count, true, &dst));
    memcpy(dst, data, count * 4);
    return MVK_OK;
}

mvk_status mvk_plan_read(mvk_plan *p, mvk_tensor_id t, float *data, uint64_t count) {
    if (!p || !data) return MVK_ERR_INVALID_ARG;
    float *src = NULL;
    MVK_TRY(host_ptr(p, t, count, false, &src));
    memcpy(data, src, count * 4);
    return MVK_OK;
}

mvk_status mvk_plan_run(mvk_plan *p) {
    if (!p) return MVK_ERR_INVALID_ARG;
    mvk_ctx *ctx = p->ctx;
    MVK_TRY(mvk_submit_wait(ctx, p->cb, p->fence));
    if (p->queries) {
        uint32_t n = (uint32_t)p->g->nnodes + 1;
        uint64_t *ts = mvk_calloc(n, sizeof *ts);
        if (!ts) return mvk_fail(ctx, MVK_ERR_OUT_OF_HOST_MEMORY, "profiling buffer");
        VkResult r = vkGetQueryPoolResults(ctx->device, p->queries, 0, n, n * sizeof *ts, ts,
                                           sizeof *ts, VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT);
        if (r == VK_SUCCESS) {
            for (int i = 0; i < p->g->nnodes; i++) {
                p->node_ms[i] = (double)(ts[i + 1] - ts[i]) * ctx->info.timestamp_period_ns * 1e-6;
                mvk_log(ctx, MVK_LOG_INFO, "profile: node %3d %-16s %8.3f ms", i,
                        mvk_op_str(p->g->nodes[i].op), p->node_ms[i]);
            }
        }
        mvk_free(ts);
        if (r != VK_SUCCESS) return mvk_vk_fail(ctx, r, "vkGetQueryPoolResults");
    }
    return MVK_OK;
}

uint64_t mvk_plan_memory(const mvk_plan *p) { return p ? p->arena.size + p->staging.size : 0; }
int mvk_plan_node_count(const mvk_plan *p) { return p ? p->g->nnodes : 0; }
double mvk_plan_node_ms(const mvk_plan *p, int node) {
    return p && node >= 0 && node < p->g->nnodes ? p->node_ms[node] : -1;
}
