/* Internal interfaces of the engine: shared by engine/, loader/ and the tests. */
#ifndef MVK_INTERNAL_H
#define MVK_INTERNAL_H

#include "mimovk.h"

#include <stdarg.h>
#include <stdbool.h>
#include <volk.h>

#include "shaders.h" /* generated: enum mvk_shader_id, mvk_shader_table[] */

#define MVK_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define MVK_MIN(a, b) ((a) < (b) ? (a) : (b))
#define MVK_MAX(a, b) ((a) > (b) ? (a) : (b))
#define MVK_CEIL_DIV(a, b) (((a) + (b)-1) / (b))

/* Storage-buffer bindings every compute pipeline has (set 0, bindings 0..7). */
#define MVK_BINDINGS 8
/* Push-constant bytes every pipeline layout declares (the spec minimum). */
#define MVK_PUSH_BYTES 128
/* Spec constants 0..2 are the workgroup size; shader-specific ones follow. */
#define MVK_MAX_SPEC 32

/* ---- status and logging ----------------------------------------------------------------- */

/* Records a formatted failure message on ctx and returns s. */
mvk_status mvk_fail(mvk_ctx *ctx, mvk_status s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Maps a VkResult to a status, recording "<what>: <VkResult name>". */
mvk_status mvk_vk_fail(mvk_ctx *ctx, VkResult r, const char *what);
const char *mvk_vk_result_str(VkResult r);
void mvk_log(const mvk_ctx *ctx, mvk_log_level lvl, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Logs a message once per context per key (slow-path notices). */
void mvk_log_once(mvk_ctx *ctx, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Checks a VkResult: on failure records the message and returns the status from the caller. */
#define MVK_VK(ctx, call)                                                                  \
    do {                                                                                   \
        VkResult mvk_r_ = (call);                                                          \
        if (mvk_r_ != VK_SUCCESS) return mvk_vk_fail((ctx), mvk_r_, #call);                \
    } while (0)
/* Propagates a failed status. */
#define MVK_TRY(expr)                                                                      \
    do {                                                                                   \
        mvk_status mvk_s_ = (expr);                                                        \
        if (mvk_s_ != MVK_OK) return mvk_s_;                                               \
    } while (0)

/* ---- host memory (counted for fault injection) ------------------------------------------- */

void *mvk_malloc(size_t n);
void *mvk_calloc(size_t count, size_t size);
void *mvk_realloc(void *p, size_t n);
char *mvk_strdup(const char *s);
void mvk_free(void *p);
/* Returns true when fault f fires at this event (counts the event). */
bool mvk_fault_hit(mvk_fault f);

/* ---- device memory ------------------------------------------------------------------------ */

typedef enum mvk_mem_kind {
    MVK_MEM_DEVICE = 0, /* device-local; host-visible and mapped on unified-memory devices */
    MVK_MEM_STAGING     /* host-visible, coherent, mapped */
} mvk_mem_kind;

typedef struct mvk_mem {
    VkBuffer buffer;
    VkDeviceMemory memory;
    uint64_t size;
    void *map; /* non-NULL when host-visible */
} mvk_mem;

mvk_status mvk_mem_alloc(mvk_ctx *ctx, uint64_t size, mvk_mem_kind kind, mvk_mem *out);
void mvk_mem_free(mvk_ctx *ctx, mvk_mem *m);

struct mvk_buffer {
    mvk_ctx *ctx;
    mvk_mem mem;
};

/* A buffer range bound to one descriptor slot. */
typedef struct mvk_binding {
    VkBuffer buffer;
    uint64_t offset;
    uint64_t range;
} mvk_binding;

/* ---- the context -------------------------------------------------------------------------- */

typedef struct mvk_pipeline_entry {
    uint32_t shader;
    uint32_t nspec;
    uint32_t spec[MVK_MAX_SPEC];
    VkPipeline pipeline;
    uint64_t hash;
} mvk_pipeline_entry;

typedef struct mvk_once_key {
    char key[64];
} mvk_once_key;

struct mvk_ctx {
    mvk_ctx_params params;
    VkInstance instance;
    VkDebugUtilsMessengerEXT messenger;
    PFN_vkCreateDebugUtilsMessengerEXT create_messenger;
    PFN_vkDestroyDebugUtilsMessengerEXT destroy_messenger;
    VkPhysicalDevice phys;
    VkDevice device;
    VkQueue queue;
    uint32_t queue_family;
    VkPhysicalDeviceMemoryProperties memprops;
    VkPhysicalDeviceProperties props;
    mvk_device_info info;
    int kernels; /* MVK_KERNELS_GPU or MVK_KERNELS_CPU */
    bool shader_int64; /* shaderInt64 enabled on the device */
    bool validation;
    bool profile;

    VkCommandPool cmd_pool;
    VkDescriptorSetLayout set_layout;
    VkPipelineLayout pipe_layout;
    VkPipelineCache pipe_cache;
    VkFence fence; /* for synchronous one-off submits */
    char cache_path[1024];

    mvk_pipeline_entry *pipes;
    uint32_t npipes, cappipes;
    uint64_t pipelines_created;

    mvk_mem dummy; /* bound to unused descriptor slots */
    uint64_t device_bytes;

    mvk_once_key *once;
    uint32_t nonce, caponce;

    char error[1024];
};

/* Returns the pipeline for (shader, spec constants), creating it on first use. */
mvk_status mvk_pipeline_get(mvk_ctx *ctx, uint32_t shader, const uint32_t *spec, uint32_t nspec,
                            VkPipeline *out);
void mvk_pipelines_destroy(mvk_ctx *ctx);
mvk_status mvk_pipeline_cache_open(mvk_ctx *ctx);
void mvk_pipeline_cache_close(mvk_ctx *ctx);

/* One-off synchronous command buffer (uploads, downloads). */
mvk_status mvk_oneoff_begin(mvk_ctx *ctx, VkCommandBuffer *cb);
mvk_status mvk_oneoff_submit(mvk_ctx *ctx, VkCommandBuffer cb);
/* Submits cb and waits for the fence; maps device loss to MVK_ERR_DEVICE_LOST. */
mvk_status mvk_submit_wait(mvk_ctx *ctx, VkCommandBuffer cb, VkFence fence);

/* ---- graphs --------------------------------------------------------------------------------- */

typedef struct mvk_tensor {
    char name[64];
    mvk_tensor_kind kind;
    int ndim;
    int64_t ne[4];
    mvk_buffer *buf;     /* weights */
    uint64_t offset;     /* weights: byte offset in buf */
    mvk_tensor_id base;  /* views: the tensor whose memory this is (never itself a view) */
    bool output;
} mvk_tensor;

typedef struct mvk_node {
    mvk_op op;
    mvk_tensor_id src[MVK_MAX_SRC];
    mvk_tensor_id dst;
    mvk_op_params p;
} mvk_node;

struct mvk_graph {
    mvk_ctx *ctx;
    mvk_tensor *tensors;
    int ntensors, captensors;
    mvk_node *nodes;
    int nnodes, capnodes;
};

static inline int64_t mvk_tensor_numel(const mvk_tensor *t) {
    int64_t n = 1;
    for (int i = 0; i < t->ndim; i++) n *= t->ne[i];
    return n;
}

/* ---- recording ------------------------------------------------------------------------------ */

typedef struct mvk_rec mvk_rec;

/* The range of tensor t in device memory. */
mvk_binding mvk_rec_tensor(const mvk_rec *r, mvk_tensor_id t);
/* The op's scratch memory (as many bytes as its workspace function asked for). */
mvk_binding mvk_rec_workspace(const mvk_rec *r);
/* Records one dispatch: pipeline (shader, spec), bindings 0..nb-1, push constants, groups.
 * A barrier against earlier dispatches is inserted before it. */
mvk_status mvk_rec_dispatch(mvk_rec *r, uint32_t shader, const uint32_t *spec, uint32_t nspec,
                            const mvk_binding *b, uint32_t nb, const void *push,
                            uint32_t push_bytes, uint32_t gx, uint32_t gy, uint32_t gz);
/* Inserts a compute->compute barrier (for ops that record their own commands). */
void mvk_rec_barrier(mvk_rec *r);
VkCommandBuffer mvk_rec_cmd(const mvk_rec *r);
mvk_ctx *mvk_rec_ctx(const mvk_rec *r);
const mvk_graph *mvk_rec_graph(const mvk_rec *r);
/* Registers cleanup of a plan-lifetime object (e.g. an FFT plan). */
mvk_status mvk_rec_defer(mvk_rec *r, void (*fn)(void *), void *obj);

/* Splits a count of workgroups over x and y so neither exceeds the device limit. */
void mvk_split_groups(const mvk_ctx *ctx, uint64_t groups, uint32_t *gx, uint32_t *gy);

/* ---- ops ------------------------------------------------------------------------------------ */

/* Host tensors handed to a reference implementation. */
typedef struct mvk_host_tensor {
    const float *data;
    int ndim;
    int64_t ne[4];
} mvk_host_tensor;

typedef struct mvk_op_impl {
    const char *name;
    /* Checks sources and params, and gives the output shape. Writes a message on failure. */
    mvk_status (*shape)(const mvk_graph *g, const mvk_node *n, int *ndim, int64_t ne[4],
                        char *msg, size_t msgsz);
    /* Scratch bytes the op needs during its dispatches (NULL: none). */
    uint64_t (*workspace)(const mvk_graph *g, const mvk_node *n);
    /* Records the op's dispatches. */
    mvk_status (*record)(mvk_rec *r, const mvk_node *n);
    /* Plain-C reference: src[] as the node's slots (data NULL when absent), dst preallocated. */
    void (*ref)(const mvk_node *n, const mvk_host_tensor *src, float *dst, const int64_t *dst_ne);
    /* FLOPs (2 per multiply-add) of the node. */
    double (*flops)(const mvk_graph *g, const mvk_node *n);
} mvk_op_impl;

const mvk_op_impl *mvk_op_get(mvk_op op);

/* Helpers for op files. */
const mvk_tensor *mvk_graph_tensor(const mvk_graph *g, mvk_tensor_id id);
float mvk_act_apply(mvk_act a, float x, float param);

/* The VkFFT binding (engine/fft.c). */
typedef struct mvk_fft mvk_fft;
/* A batched 1-D R2C/C2R plan over the last axis: real [batches][d], complex [batches][d/2+1]. */
mvk_status mvk_fft_create(mvk_ctx *ctx, uint32_t d, uint64_t batches, mvk_binding real,
                          mvk_binding cplx, mvk_fft **out);
/* dir -1: forward R2C (real -> cplx); +1: inverse C2R normalised by 1/d (cplx -> real). */
mvk_status mvk_fft_record(mvk_fft *f, VkCommandBuffer cb, int dir);
void mvk_fft_destroy(void *f);

#endif /* MVK_INTERNAL_H */
