/*
 * mimovk: neural networks in superposition on any Vulkan device.
 *
 * The engine runs a graph of ops on one Vulkan device. A graph is built once from tensors
 * (inputs, weights, intermediates) and ops; a plan fixes it to device memory, pipelines and
 * a recorded command buffer, and is then run many times. Models (mvk_model_*, below) build
 * one graph per operating point (n inputs per pass, batch) on top of this API.
 *
 * Conventions
 *   - Every function that can fail returns an mvk_status; MVK_OK is 0. The detailed message
 *     of the last failure on a context is mvk_ctx_error(ctx).
 *   - The library never aborts, exits or writes to stdout. Log lines go to the callback in
 *     mvk_ctx_params (default: stderr at level MVK_LOG_WARN, or MIMOVK_LOG=debug|info|warn|error).
 *   - Shapes are outermost first, PyTorch order: ne[0] is the batch N, then C, H, W. Tensors
 *     are fp32 and contiguous unless created as a view; strides nb[] are in elements.
 *
 * Threading
 *   - A context and everything created from it (graphs, plans, buffers, models) belong to one
 *     thread at a time: calls on one context must not overlap. Different contexts are
 *     independent and may be used from different threads at the same time.
 *   - mvk_device_list() is thread-safe.
 *
 * Environment
 *   MIMOVK_DEVICE=<index or name substring>  pick a device (default: discrete > integrated >
 *                                            virtual > CPU)
 *   MIMOVK_VALIDATION=1                      enable VK_LAYER_KHRONOS_validation
 *   MIMOVK_PROFILE=1                         per-op GPU times in the log after each run
 *   MIMOVK_LOG=debug|info|warn|error         default log level
 *   MIMOVK_KERNELS=cpu|gpu                   force a kernel class (default: by device type)
 *   XDG_CACHE_HOME                           pipeline cache under $XDG_CACHE_HOME/mimovk
 */
#ifndef MIMOVK_H
#define MIMOVK_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define MVK_API __attribute__((visibility("default")))
#else
#define MVK_API
#endif

#define MVK_VERSION_MAJOR 0
#define MVK_VERSION_MINOR 1
#define MVK_VERSION_PATCH 0

/* ---------------------------------------------------------------------------------------- */
/* Status                                                                                     */

typedef enum mvk_status {
    MVK_OK = 0,
    MVK_ERR_NO_VULKAN,        /* no Vulkan loader or no instance could be created */
    MVK_ERR_NO_DEVICE,        /* no Vulkan device with a compute queue, or none matches */
    MVK_ERR_OUT_OF_HOST_MEMORY,
    MVK_ERR_OUT_OF_DEVICE_MEMORY,
    MVK_ERR_DEVICE_LOST,
    MVK_ERR_VULKAN,           /* any other Vulkan failure; the message has the VkResult */
    MVK_ERR_INVALID_ARG,      /* bad argument: null pointer, bad tensor id, wrong size */
    MVK_ERR_SHAPE,            /* shapes of an op's inputs do not fit together */
    MVK_ERR_UNSUPPORTED,      /* valid but not supported (op, activation, device feature) */
    MVK_ERR_LIMIT,            /* above a device limit (storage buffer range, memory, dispatch) */
    MVK_ERR_IO,               /* file cannot be opened, read, mapped or written */
    MVK_ERR_FORMAT,           /* malformed file: model, .npy, IDX, image */
    MVK_ERR_BAD_N,            /* n does not divide the model's capacity */
    MVK_ERR_INTERNAL,
    MVK_STATUS_COUNT
} mvk_status;

/* Short constant name of a status, e.g. "out of device memory". */
MVK_API const char *mvk_status_str(mvk_status s);

/* ---------------------------------------------------------------------------------------- */
/* Logging                                                                                    */

typedef enum mvk_log_level {
    MVK_LOG_DEBUG = 0,
    MVK_LOG_INFO,
    MVK_LOG_WARN,
    MVK_LOG_ERROR,
    MVK_LOG_NONE
} mvk_log_level;

typedef void (*mvk_log_fn)(void *user, mvk_log_level level, const char *msg);

/* ---------------------------------------------------------------------------------------- */
/* Devices                                                                                    */

typedef enum mvk_device_type {
    MVK_DEVICE_OTHER = 0,
    MVK_DEVICE_INTEGRATED,
    MVK_DEVICE_DISCRETE,
    MVK_DEVICE_VIRTUAL,
    MVK_DEVICE_CPU
} mvk_device_type;

typedef struct mvk_device_info {
    int index;
    char name[256];
    char driver_name[256];
    char driver_info[256];
    mvk_device_type type;
    uint32_t vendor_id, device_id, api_version, driver_version;
    int has_compute;            /* a queue family with compute */
    int fp16_arith;             /* shaderFloat16 */
    int storage16;              /* storageBuffer16BitAccess */
    int push_descriptors;       /* VK_KHR_push_descriptor */
    uint32_t subgroup_size;
    uint32_t max_workgroup_invocations;
    uint32_t max_workgroup_size[3];
    uint32_t max_workgroup_count[3];
    uint32_t max_shared_memory;
    uint32_t max_push_constants;
    uint64_t max_storage_buffer_range;
    uint64_t min_storage_offset_align;
    uint64_t max_alloc_size;
    int timestamps;             /* compute queue supports timestamps */
    float timestamp_period_ns;
    int unified_memory;         /* a device-local heap is host visible (map directly) */
    uint32_t heap_count;
    uint64_t heap_size[16];
    int heap_device_local[16];
} mvk_device_info;

/* Lists the Vulkan devices. *count receives the number found; at most max are written. */
MVK_API mvk_status mvk_device_list(mvk_device_info *infos, int max, int *count);

MVK_API const char *mvk_device_type_str(mvk_device_type t);

/* ---------------------------------------------------------------------------------------- */
/* Context                                                                                    */

typedef struct mvk_ctx mvk_ctx;

enum { MVK_KERNELS_GPU = 0, MVK_KERNELS_CPU = 1 };

typedef struct mvk_ctx_params {
    int device_index;           /* -1: MIMOVK_DEVICE, else the default order */
    const char *device_name;    /* substring of the device name; NULL for none */
    int validation;             /* 1: enable the Khronos validation layer; -1: MIMOVK_VALIDATION */
    int profile;                /* 1: timestamp queries per op; -1: MIMOVK_PROFILE */
    int pipeline_cache;         /* 1: load/save the on-disk pipeline cache (default 1) */
    int kernels;                /* kernel class: -1 auto (MIMOVK_KERNELS=cpu|gpu, else by device
                                   type), MVK_KERNELS_GPU or MVK_KERNELS_CPU */
    mvk_log_fn log;             /* NULL: stderr */
    void *log_user;
    mvk_log_level log_level;    /* messages below this are dropped; -1: MIMOVK_LOG or WARN */
    /* Called for every message of the validation layer (tests fail on any). */
    void (*on_validation)(void *user, const char *msg);
    void *validation_user;
} mvk_ctx_params;

/* Defaults: everything from the environment, log to stderr. */
MVK_API mvk_ctx_params mvk_ctx_default_params(void);

MVK_API mvk_status mvk_ctx_create(const mvk_ctx_params *params, mvk_ctx **out);
MVK_API void mvk_ctx_destroy(mvk_ctx *ctx);

/* The detailed message of the last failure on this context ("" if none). With ctx NULL: why
 * the last mvk_ctx_create on this thread failed. */
MVK_API const char *mvk_ctx_error(const mvk_ctx *ctx);
/* The device this context runs on. */
MVK_API const mvk_device_info *mvk_ctx_device(const mvk_ctx *ctx);
/* "cpu" kernels (register-blocked, no shared memory: lavapipe) or "gpu" (shared-memory tiles). */
MVK_API const char *mvk_ctx_kernel_class(const mvk_ctx *ctx);
/* Number of compute pipelines created so far (each is created once, then reused). */
MVK_API uint64_t mvk_ctx_pipelines_created(const mvk_ctx *ctx);
/* Device memory this context holds now, in bytes. */
MVK_API uint64_t mvk_ctx_device_memory(const mvk_ctx *ctx);

/* ---------------------------------------------------------------------------------------- */
/* Buffers: device memory that outlives plans (weights)                                       */

typedef struct mvk_buffer mvk_buffer;

MVK_API mvk_status mvk_buffer_create(mvk_ctx *ctx, uint64_t bytes, mvk_buffer **out);
/* Copies host data into the buffer (through staging where the device needs it). */
MVK_API mvk_status mvk_buffer_upload(mvk_buffer *buf, uint64_t offset, const void *data, uint64_t bytes);
MVK_API mvk_status mvk_buffer_download(mvk_buffer *buf, uint64_t offset, void *data, uint64_t bytes);
/* Offsets of tensors inside a buffer must be multiples of this. */
MVK_API uint64_t mvk_buffer_alignment(const mvk_ctx *ctx);
MVK_API void mvk_buffer_destroy(mvk_buffer *buf);

/* ---------------------------------------------------------------------------------------- */
/* Ops                                                                                        */

typedef enum mvk_act {
    MVK_ACT_NONE = 0,
    MVK_ACT_RELU,
    MVK_ACT_PRELU,   /* x >= 0 ? x : a_c x; a per channel (an "act_param" input) */
    MVK_ACT_SRELU,   /* max(x, b_c); b per channel (an "act_param" input) */
    MVK_ACT_GELU,    /* 0.5 x (1 + erf(x / sqrt 2)) */
    MVK_ACT_COUNT
} mvk_act;

MVK_API const char *mvk_act_str(mvk_act a);
/* Parses "none", "relu", "prelu", "srelu", "gelu"; returns MVK_ACT_COUNT if unknown. */
MVK_API mvk_act mvk_act_parse(const char *s);

/*
 * Each op reads inputs from fixed source slots (MVK_MAX_SRC of them; unused slots are -1) and
 * the fields of mvk_op_params listed here. x is slot 0.
 *
 * op                slots                                        params          output
 * CONV2D            x(N,Ci,H,W) w(Co,Ci,kh,kw) bias(Co)          stride, pad,    (N,Co,Ho,Wo)
 *                   pre_scale(Ci) pre_shift(Ci) pre_param(Ci)    pre_act, act,
 *                   act_param(Co) residual(N,Co,Ho,Wo)           scale
 *      y = act(conv(pre_act(pre_scale*x+pre_shift)) + bias); out = scale*y + residual
 *      (pre_* absent: identity prologue; scale applies only with a residual; scale 0 means 1)
 * AFFINE_ACT        x(N,C,...) scale(C) shift(C) param(C)        act             like x
 * GLOBAL_AVGPOOL    x(N,C,H,W)                                                   (N,C)
 * LINEAR            x(N,F) w(O,F) bias(O) act_param(O)           act             (N,O)
 * ADD / MUL         a, b (same shape)                                            like a
 * SCALE             x                                            scale           like x
 * GROUP_MEAN        x(G, r*n*F)   out[g*n+i][f] = mean_p x[g][(p*n+i)*F+f]   n, groups=r   (G*n,F)
 * SOFTMAX           x(..., D): over the last axis                                like x
 * LAYERNORM         x(..., D) gamma(D) beta(D)                   eps             like x
 * ARGMAX            x(..., D): index of the max as float                         (...,1)
 * TOPK              x(..., D): k indices, largest first, as float k              (...,k)
 * SUPERPOSE         x(B,C,H,W) a(C, n*C): out[g] = sum_i a_i x[g*n+i] per pixel   n  (B/n,C,H,W)
 * HRR               x(P,D) key(K,D), K = 1 or P, channel-last:   mode            (P,D)
 *                   mode 0: circular convolution z[o] = sum_m k[m] x[(o-m) mod D]
 *                   mode 1: circular correlation z[o] = sum_m k[m] x[(o+m) mod D]
 *                   path: MVK_HRR_AUTO (by shape), MVK_HRR_FFT (VkFFT), MVK_HRR_DIRECT
 * BIND              x(G*n, D) keys(n, D): out[g] = s * sum_i keys[i] * x[g*n+i]   n, mode   (G,D)
 *                   mode 0: s = 1 (sum), mode 1: s = 1/n (mean)
 */
typedef enum mvk_op {
    MVK_OP_CONV2D = 0,
    MVK_OP_AFFINE_ACT,
    MVK_OP_GLOBAL_AVGPOOL,
    MVK_OP_LINEAR,
    MVK_OP_ADD,
    MVK_OP_MUL,
    MVK_OP_SCALE,
    MVK_OP_GROUP_MEAN,
    MVK_OP_SOFTMAX,
    MVK_OP_LAYERNORM,
    MVK_OP_ARGMAX,
    MVK_OP_TOPK,
    MVK_OP_SUPERPOSE,
    MVK_OP_HRR,
    MVK_OP_BIND,
    MVK_OP_COUNT
} mvk_op;

MVK_API const char *mvk_op_str(mvk_op op);

#define MVK_MAX_SRC 8

/* Source slots of CONV2D and LINEAR (LINEAR uses X, W, BIAS, ACT_PARAM). */
enum {
    MVK_SRC_X = 0,
    MVK_SRC_W = 1,
    MVK_SRC_BIAS = 2,
    MVK_SRC_PRE_SCALE = 3,
    MVK_SRC_PRE_SHIFT = 4,
    MVK_SRC_PRE_PARAM = 5,
    MVK_SRC_ACT_PARAM = 6,
    MVK_SRC_RESIDUAL = 7
};

enum { MVK_HRR_AUTO = 0, MVK_HRR_FFT = 1, MVK_HRR_DIRECT = 2 };

typedef struct mvk_op_params {
    int stride, pad;            /* CONV2D (stride 0 means 1) */
    mvk_act pre_act, act;
    float scale;                /* CONV2D residual scale, SCALE factor */
    float eps;                  /* LAYERNORM */
    int n;                      /* GROUP_MEAN, SUPERPOSE, BIND: inputs per superposition */
    int groups;                 /* GROUP_MEAN: replicas r */
    int k;                      /* TOPK */
    int mode;                   /* HRR: 0 convolution, 1 correlation; BIND: 0 sum, 1 mean */
    int path;                   /* HRR: MVK_HRR_AUTO / FFT / DIRECT */
} mvk_op_params;

/* ---------------------------------------------------------------------------------------- */
/* Graphs                                                                                     */

typedef struct mvk_graph mvk_graph;
typedef int32_t mvk_tensor_id;   /* index in the graph, >= 0; -1 means "none" */

typedef enum mvk_tensor_kind {
    MVK_TENSOR_ACT = 0,         /* intermediate: planned in the activation arena */
    MVK_TENSOR_INPUT,           /* written by the caller before a run */
    MVK_TENSOR_WEIGHT,          /* lives in an mvk_buffer */
    MVK_TENSOR_VIEW             /* another shape over an existing tensor's memory */
} mvk_tensor_kind;

MVK_API mvk_status mvk_graph_create(mvk_ctx *ctx, mvk_graph **out);
MVK_API void mvk_graph_destroy(mvk_graph *g);

/* A caller-written input of shape ne[0..ndim-1]. */
MVK_API mvk_status mvk_graph_input(mvk_graph *g, const char *name, int ndim, const int64_t *ne,
                           mvk_tensor_id *out);
/* A weight at byte offset `offset` of `buf` (a multiple of mvk_buffer_alignment). */
MVK_API mvk_status mvk_graph_weight(mvk_graph *g, const char *name, int ndim, const int64_t *ne,
                            mvk_buffer *buf, uint64_t offset, mvk_tensor_id *out);
/* The same memory as `src` (contiguous) seen with another shape of equal element count. */
MVK_API mvk_status mvk_graph_view(mvk_graph *g, mvk_tensor_id src, int ndim, const int64_t *ne,
                          mvk_tensor_id *out);
/* Adds an op; its output is a new tensor whose shape the op decides. */
MVK_API mvk_status mvk_graph_op(mvk_graph *g, mvk_op op, const mvk_tensor_id src[MVK_MAX_SRC],
                        const mvk_op_params *params, mvk_tensor_id *out);
/* Marks a tensor as an output: it survives the run and can be read back. */
MVK_API mvk_status mvk_graph_output(mvk_graph *g, mvk_tensor_id t);

/* Shape of a tensor: returns ndim and fills ne (up to 4). */
MVK_API int mvk_graph_shape(const mvk_graph *g, mvk_tensor_id t, int64_t ne[4]);
/* Multiply-accumulate count of the graph's ops, times two. */
MVK_API double mvk_graph_flops(const mvk_graph *g);

/* Default op params: stride 1, pad 0, no activations, scale 1, eps 1e-5, n 1, groups 1, k 1. */
MVK_API mvk_op_params mvk_op_default_params(void);

/* ---------------------------------------------------------------------------------------- */
/* Plans                                                                                      */

typedef struct mvk_plan mvk_plan;

/* Fixes memory, pipelines and the command buffer. The graph must outlive the plan. */
MVK_API mvk_status mvk_plan_create(mvk_ctx *ctx, mvk_graph *g, mvk_plan **out);
MVK_API void mvk_plan_destroy(mvk_plan *p);

MVK_API mvk_status mvk_plan_write(mvk_plan *p, mvk_tensor_id t, const float *data, uint64_t count);
MVK_API mvk_status mvk_plan_run(mvk_plan *p);
MVK_API mvk_status mvk_plan_read(mvk_plan *p, mvk_tensor_id t, float *data, uint64_t count);

/* Bytes of the activation arena and staging of this plan. */
MVK_API uint64_t mvk_plan_memory(const mvk_plan *p);
/* With profiling on: GPU milliseconds of node i in the last run (-1 if unknown). */
MVK_API double mvk_plan_node_ms(const mvk_plan *p, int node);
MVK_API int mvk_plan_node_count(const mvk_plan *p);


/* ---------------------------------------------------------------------------------------- */
/* Models: a model file (docs/model-format.md) run at n inputs per pass                      */

typedef struct mvk_model mvk_model;

#define MVK_MAX_N 16

typedef struct mvk_model_info {
    const char *name;
    const char *family;          /* "mimoconv", ... */
    const char *description;
    int capacity;                /* Ncap: n must divide it */
    int valid_n[MVK_MAX_N];      /* the divisors of capacity, ascending (1 only without superposition) */
    int n_valid;
    int channels, height, width; /* input image, NCHW */
    float mean[4], std[4];       /* normalisation per channel: (x/255 - mean) / std */
    int light_on_dark;           /* 1: objects are light on a dark ground (Fashion-MNIST) */
    int num_classes;
    const char *const *labels;   /* num_classes names */
    uint64_t parameters;         /* elements of the tensors the graph uses */
    double flops_per_image[MVK_MAX_N]; /* per entry of valid_n */
    double reference_accuracy[MVK_MAX_N]; /* PyTorch's, per entry of valid_n; -1 if unknown */
    int reference_images;
    const char *config_json;     /* the exporter's "config" object as JSON text, or "" */
} mvk_model_info;

/* Loads and validates a model file and uploads its weights once. Any malformed file gives
 * MVK_ERR_FORMAT (or MVK_ERR_SHAPE) with a message naming the tensor or field. */
MVK_API mvk_status mvk_model_load(mvk_ctx *ctx, const char *path, mvk_model **out);
MVK_API void mvk_model_destroy(mvk_model *m);
MVK_API const mvk_model_info *mvk_model_get_info(const mvk_model *m);

/* Superposed samples per pass (the trunk batch), default 16: a pass takes up to
 * groups * n images. Plans are cached per (n, groups), so changing n between calls costs no
 * reload and, after first use, no pipeline creation. */
MVK_API mvk_status mvk_model_set_groups(mvk_model *m, int groups);

/* Runs `count` preprocessed images (count * channels * height * width floats, NCHW) with n
 * images per pass and writes count * num_classes logits. n must divide the capacity
 * (MVK_ERR_BAD_N otherwise). A last group with fewer than n images runs at the largest valid
 * smaller n: no image is dropped. */
MVK_API mvk_status mvk_model_run(mvk_model *m, int n, const float *input, int count, float *logits);

/* Converts an 8-bit image (h rows of w pixels with c interleaved channels: 1 gray, 3 RGB,
 * 4 RGBA) into the model's input: grayscale or RGB as the model wants, centre-cropped to the
 * model's aspect ratio, resized (area average / bilinear) and normalised. invert = 1 flips
 * polarity (dark objects on a light ground become light on dark). Writes channels*height*width. */
MVK_API mvk_status mvk_model_preprocess(const mvk_model *m, const uint8_t *pixels, int w, int h, int c,
                                int invert, float *out);

/* ---------------------------------------------------------------------------------------- */
/* Test hooks (fault injection). Not for production use.                                      */

typedef enum mvk_fault {
    MVK_FAULT_HOST_ALLOC = 0,   /* the k-th host allocation fails */
    MVK_FAULT_DEVICE_ALLOC,     /* the k-th vkAllocateMemory fails */
    MVK_FAULT_PIPELINE,         /* the k-th pipeline creation fails */
    MVK_FAULT_DEVICE_LOST,      /* the k-th queue submit reports device lost */
    MVK_FAULT_COUNT
} mvk_fault;

/* Arms fault `f` to fire at the k-th event from now (k >= 1); k = 0 disarms. Process-wide. */
MVK_API void mvk_fault_arm(mvk_fault f, uint64_t k);
/* Events of kind f counted since it was last armed. */
MVK_API uint64_t mvk_fault_count(mvk_fault f);

#ifdef __cplusplus
}
#endif

#endif /* MIMOVK_H */
