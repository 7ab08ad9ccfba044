/* Instance, device choice and capabilities, and the context's lifetime. */
#include "internal.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Capability queries use plain calloc: they are not fault-injection points. */
static pthread_mutex_t volk_lock = PTHREAD_MUTEX_INITIALIZER;
static bool volk_loaded;

/* volk's entry points are process globals; loading them for every new instance is harmless
 * because the loader's trampolines are the same for all instances. */
static mvk_status vulkan_init(void) {
    pthread_mutex_lock(&volk_lock);
    VkResult r = volkGetInstanceVersion() ? VK_SUCCESS : volkInitialize();
    pthread_mutex_unlock(&volk_lock);
    return r == VK_SUCCESS ? MVK_OK : MVK_ERR_NO_VULKAN;
}

static bool has_layer(const char *name) {
    uint32_t n = 0;
    if (vkEnumerateInstanceLayerProperties(&n, NULL) != VK_SUCCESS || n == 0) return false;
    VkLayerProperties *p = calloc(n, sizeof *p);
    if (!p) return false;
    bool found = false;
    if (vkEnumerateInstanceLayerProperties(&n, p) == VK_SUCCESS)
        for (uint32_t i = 0; i < n && !found; i++) found = strcmp(p[i].layerName, name) == 0;
    free(p);
    return found;
}

static bool has_instance_ext(const char *name) {
    uint32_t n = 0;
    if (vkEnumerateInstanceExtensionProperties(NULL, &n, NULL) != VK_SUCCESS || n == 0)
        return false;
    VkExtensionProperties *p = calloc(n, sizeof *p);
    if (!p) return false;
    bool found = false;
    if (vkEnumerateInstanceExtensionProperties(NULL, &n, p) == VK_SUCCESS)
        for (uint32_t i = 0; i < n && !found; i++) found = strcmp(p[i].extensionName, name) == 0;
    free(p);
    return found;
}

static VKAPI_ATTR VkBool32 VKAPI_CALL on_debug(VkDebugUtilsMessageSeverityFlagBitsEXT sev,
                                               VkDebugUtilsMessageTypeFlagsEXT type,
                                               const VkDebugUtilsMessengerCallbackDataEXT *data,
                                               void *user) {
    (void)type;
    mvk_ctx *ctx = user;
    if (sev < VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT) return VK_FALSE;
    const char *msg = data && data->pMessage ? data->pMessage : "(no message)";
    mvk_log(ctx, MVK_LOG_ERROR, "validation: %s", msg);
    if (ctx->params.on_validation) ctx->params.on_validation(ctx->params.validation_user, msg);
    return VK_FALSE;
}

static mvk_status create_instance(mvk_ctx *ctx, bool validation, VkInstance *out) {
    VkApplicationInfo app = {
        .sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
        .pApplicationName = "mimovk",
        .applicationVersion = VK_MAKE_VERSION(MVK_VERSION_MAJOR, MVK_VERSION_MINOR, MVK_VERSION_PATCH),
        .pEngineName = "mimovk",
        .engineVersion = VK_MAKE_VERSION(MVK_VERSION_MAJOR, MVK_VERSION_MINOR, MVK_VERSION_PATCH),
        .apiVersion = VK_API_VERSION_1_1,
    };
    const char *layers[1];
    const char *exts[1];
    uint32_t nl = 0, ne = 0;
    if (validation) {
        if (!has_layer("VK_LAYER_KHRONOS_validation"))
            return mvk_fail(ctx, MVK_ERR_UNSUPPORTED,
                            "validation requested but VK_LAYER_KHRONOS_validation is not installed "
                            "(Debian package vulkan-validationlayers)");
        if (!has_instance_ext(VK_EXT_DEBUG_UTILS_EXTENSION_NAME))
            return mvk_fail(ctx, MVK_ERR_UNSUPPORTED, "validation needs VK_EXT_debug_utils");
        layers[nl++] = "VK_LAYER_KHRONOS_validation";
        exts[ne++] = VK_EXT_DEBUG_UTILS_EXTENSION_NAME;
    }
    VkInstanceCreateInfo ci = {
        .sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
        .pApplicationInfo = &app,
        .enabledLayerCount = nl,
        .ppEnabledLayerNames = layers,
        .enabledExtensionCount = ne,
        .ppEnabledExtensionNames = exts,
    };
    VkResult r = vkCreateInstance(&ci, NULL, out);
    if (r != VK_SUCCESS) {
        mvk_status s = mvk_vk_fail(ctx, r, "vkCreateInstance");
        return s == MVK_ERR_VULKAN ? mvk_fail(ctx, MVK_ERR_NO_VULKAN, "%s", ctx ? ctx->error : "")
                                   : s;
    }
    /* The loader's trampolines serve every instance, so volk's globals are loaded once per
     * process. Instance extension functions are not trampolines for instances that did not
     * enable them: those are looked up per context (ctx->create_messenger below). */
    pthread_mutex_lock(&volk_lock);
    if (!volk_loaded) {
        volkLoadInstance(*out);
        volk_loaded = true;
    }
    pthread_mutex_unlock(&volk_lock);
    return MVK_OK;
}

static mvk_device_type map_type(VkPhysicalDeviceType t) {
    switch (t) {
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return MVK_DEVICE_INTEGRATED;
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return MVK_DEVICE_DISCRETE;
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return MVK_DEVICE_VIRTUAL;
    case VK_PHYSICAL_DEVICE_TYPE_CPU: return MVK_DEVICE_CPU;
    default: return MVK_DEVICE_OTHER;
    }
}

const char *mvk_device_type_str(mvk_device_type t) {
    static const char *const names[] = {"other", "integrated", "discrete", "virtual", "cpu"};
    return (unsigned)t < MVK_ARRAY_LEN(names) ? names[t] : "?";
}

static bool device_has_ext(VkPhysicalDevice pd, const char *name) {
    uint32_t n = 0;
    if (vkEnumerateDeviceExtensionProperties(pd, NULL, &n, NULL) != VK_SUCCESS || !n) return false;
    VkExtensionProperties *p = calloc(n, sizeof *p);
    if (!p) return false;
    bool found = false;
    if (vkEnumerateDeviceExtensionProperties(pd, NULL, &n, p) == VK_SUCCESS)
        for (uint32_t i = 0; i < n && !found; i++) found = strcmp(p[i].extensionName, name) == 0;
    free(p);
    return found;
}

/* Finds a queue family with compute, preferring one without graphics. */
static int compute_family(VkPhysicalDevice pd, uint32_t *ts_bits) {
    uint32_t n = 0;
    vkGetPhysicalDeviceQueueFamilyProperties(pd, &n, NULL);
    VkQueueFamilyProperties q[32];
    if (n > 32) n = 32;
    vkGetPhysicalDeviceQueueFamilyProperties(pd, &n, q);
    int best = -1;
    for (uint32_t i = 0; i < n; i++) {
        if (!(q[i].queueFlags & VK_QUEUE_COMPUTE_BIT)) continue;
        if (best < 0 || !(q[i].queueFlags & VK_QUEUE_GRAPHICS_BIT)) best = (int)i;
        if (!(q[i].queueFlags & VK_QUEUE_GRAPHICS_BIT)) break;
    }
    if (best >= 0 && ts_bits) *ts_bits = q[best].timestampValidBits;
    return best;
}

static void query_info(VkPhysicalDevice pd, int index, mvk_device_info *info) {
    memset(info, 0, sizeof *info);
    VkPhysicalDeviceDriverProperties drv = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRIVER_PROPERTIES};
    VkPhysicalDeviceSubgroupProperties sub = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES};
    VkPhysicalDeviceProperties2 p2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2,
                                      .pNext = &sub};
    bool has_drv = device_has_ext(pd, VK_KHR_DRIVER_PROPERTIES_EXTENSION_NAME);
    if (has_drv) sub.pNext = &drv;
    vkGetPhysicalDeviceProperties2(pd, &p2);
    const VkPhysicalDeviceProperties *p = &p2.properties;
    const VkPhysicalDeviceLimits *l = &p->limits;

    VkPhysicalDevice16BitStorageFeatures s16 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_16BIT_STORAGE_FEATURES};
    VkPhysicalDeviceShaderFloat16Int8Features f16 = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_FLOAT16_INT8_FEATURES, .pNext = &s16};
    VkPhysicalDeviceFeatures2 f2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2};
    bool has_f16 = device_has_ext(pd, VK_KHR_SHADER_FLOAT16_INT8_EXTENSION_NAME) ||
                   p->apiVersion >= VK_API_VERSION_1_2;
    f2.pNext = has_f16 ? (void *)&f16 : (void *)&s16;
    vkGetPhysicalDeviceFeatures2(pd, &f2);

    info->index = index;
    snprintf(info->name, sizeof info->name, "%s", p->deviceName);
    if (has_drv) {
        snprintf(info->driver_name, sizeof info->driver_name, "%s", drv.driverName);
        snprintf(info->driver_info, sizeof info->driver_info, "%s", drv.driverInfo);
    }
    info->type = map_type(p->deviceType);
    info->vendor_id = p->vendorID;
    info->device_id = p->deviceID;
    info->api_version = p->apiVersion;
    info->driver_version = p->driverVersion;
    uint32_t ts_bits = 0;
    info->has_compute = compute_family(pd, &ts_bits) >= 0;
    info->fp16_arith = has_f16 && f16.shaderFloat16;
    info->storage16 = s16.storageBuffer16BitAccess;
    info->push_descriptors = device_has_ext(pd, VK_KHR_PUSH_DESCRIPTOR_EXTENSION_NAME);
    info->subgroup_size = sub.subgroupSize;
    info->max_workgroup_invocations = l->maxComputeWorkGroupInvocations;
    for (int i = 0; i < 3; i++) {
        info->max_workgroup_size[i] = l->maxComputeWorkGroupSize[i];
        info->max_workgroup_count[i] = l->maxComputeWorkGroupCount[i];
    }
    info->max_shared_memory = l->maxComputeSharedMemorySize;
    info->max_push_constants = l->maxPushConstantsSize;
    info->max_storage_buffer_range = l->maxStorageBufferRange;
    info->min_storage_offset_align = l->minStorageBufferOffsetAlignment;
    info->timestamps = ts_bits > 0 && l->timestampComputeAndGraphics;
    info->timestamp_period_ns = l->timestampPeriod;

    VkPhysicalDeviceMaintenance3Properties m3 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MAINTENANCE_3_PROPERTIES};
    VkPhysicalDeviceProperties2 pm = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2, .pNext = &m3};
    vkGetPhysicalDeviceProperties2(pd, &pm);
    info->max_alloc_size = m3.maxMemoryAllocationSize;

    VkPhysicalDeviceMemoryProperties mp;
    vkGetPhysicalDeviceMemoryProperties(pd, &mp);
    info->heap_count = MVK_MIN(mp.memoryHeapCount, 16u);
    for (uint32_t i = 0; i < info->heap_count; i++) {
        info->heap_size[i] = mp.memoryHeaps[i].size;
        info->heap_device_local[i] = !!(mp.memoryHeaps[i].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT);
    }
    /* Unified memory: every device-local heap has a host-visible memory type. Then activations
     * and weights are mapped directly and no staging copies are recorded. */
    bool any_local = false, all_visible = true;
    for (uint32_t h = 0; h < mp.memoryHeapCount; h++) {
        if (!(mp.memoryHeaps[h].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT)) continue;
        any_local = true;
        bool visible = false;
        for (uint32_t t = 0; t < mp.memoryTypeCount; t++) {
            VkMemoryPropertyFlags f = mp.memoryTypes[t].propertyFlags;
            if (mp.memoryTypes[t].heapIndex == h && (f & VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT) &&
                (f & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT) && (f & VK_MEMORY_PROPERTY_HOST_COHERENT_BIT))
                visible = true;
        }
        all_visible = all_visible && visible;
    }
    info->unified_memory = any_local && all_visible &&
                           (info->type == MVK_DEVICE_INTEGRATED || info->type == MVK_DEVICE_CPU);
}

mvk_status mvk_device_list(mvk_device_info *infos, int max, int *count) {
    if (!count) return MVK_ERR_INVALID_ARG;
    *count = 0;
    if (vulkan_init() != MVK_OK) return MVK_ERR_NO_VULKAN;
    VkInstance inst;
    mvk_status s = create_instance(NULL, false, &inst);
    if (s != MVK_OK) return s;
    uint32_t n = 0;
    VkResult r = vkEnumeratePhysicalDevices(inst, &n, NULL);
    VkPhysicalDevice pds[16];
    if (n > 16) n = 16;
    if (r == VK_SUCCESS || r == VK_INCOMPLETE) r = vkEnumeratePhysicalDevices(inst, &n, pds);
    if (r != VK_SUCCESS && r != VK_INCOMPLETE) {
        vkDestroyInstance(inst, NULL);
        return MVK_ERR_NO_DEVICE;
    }
    for (uint32_t i = 0; i < n && (int)i < max; i++) query_info(pds[i], (int)i, &infos[i]);
    *count = (int)n;
    vkDestroyInstance(inst, NULL);
    return MVK_OK;
}

mvk_ctx_params mvk_ctx_default_params(void) {
    return (mvk_ctx_params){
        .device_index = -1,
        .validation = -1,
        .profile = -1,
        .pipeline_cache = 1,
        .kernels = -1,
        .log_level = (mvk_log_level)-1,
    };
}

static int type_rank(mvk_device_type t) {
    switch (t) {
    case MVK_DEVICE_DISCRETE: return 0;
    case MVK_DEVICE_INTEGRATED: return 1;
    case MVK_DEVICE_VIRTUAL: return 2;
    case MVK_DEVICE_CPU: return 3;
    default: return 4;
    }
}

static mvk_status pick_device(mvk_ctx *ctx) {
    uint32_t n = 0;
    VkResult r = vkEnumeratePhysicalDevices(ctx->instance, &n, NULL);
    if (r != VK_SUCCESS || n == 0)
        return mvk_fail(ctx, MVK_ERR_NO_DEVICE, "no Vulkan device found (install a driver, e.g. "
                                                "Debian's mesa-vulkan-drivers for lavapipe)");
    VkPhysicalDevice pds[16];
    if (n > 16) n = 16;
    r = vkEnumeratePhysicalDevices(ctx->instance, &n, pds);
    if (r != VK_SUCCESS && r != VK_INCOMPLETE) return mvk_vk_fail(ctx, r, "vkEnumeratePhysicalDevices");

    int want_index = ctx->params.device_index;
    const char *want_name = ctx->params.device_name;
    const char *env = getenv("MIMOVK_DEVICE");
    if (want_index < 0 && !want_name && env && *env) {
        char *end;
        long v = strtol(env, &end, 10);
        if (*end == 0) want_index = (int)v;
        else want_name = env;
    }
    int chosen = -1;
    mvk_device_info info, best_info;
    for (uint32_t i = 0; i < n; i++) {
        query_info(pds[i], (int)i, &info);
        if (!info.has_compute) continue;
        bool match = want_index >= 0 ? (int)i == want_index
                     : want_name     ? strcasestr(info.name, want_name) != NULL
                                     : chosen < 0 || type_rank(info.type) < type_rank(best_info.type);
        if (!match) continue;
        chosen = (int)i;
        best_info = info;
        if (want_index >= 0 || want_name) break; /* the first match wins */
    }
    if (chosen < 0) {
        if (want_index >= 0)
            return mvk_fail(ctx, MVK_ERR_NO_DEVICE, "no compute-capable Vulkan device with index %d "
                                                    "(%u devices)", want_index, n);
        if (want_name)
            return mvk_fail(ctx, MVK_ERR_NO_DEVICE, "no compute-capable Vulkan device whose name "
                                                    "contains \"%s\"", want_name);
        return mvk_fail(ctx, MVK_ERR_NO_DEVICE, "no Vulkan device has a compute queue");
    }
    ctx->phys = pds[chosen];
    ctx->info = best_info;
    vkGetPhysicalDeviceMemoryProperties(ctx->phys, &ctx->memprops);
    vkGetPhysicalDeviceProperties(ctx->phys, &ctx->props);
    return MVK_OK;
}

static mvk_status create_device(mvk_ctx *ctx) {
    int fam = compute_family(ctx->phys, NULL);
    ctx->queue_family = (uint32_t)fam;
    float prio = 1.0f;
    VkDeviceQueueCreateInfo q = {
        .sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
        .queueFamilyIndex = ctx->queue_family,
        .queueCount = 1,
        .pQueuePriorities = &prio,
    };
    /* Optional features kernels may use: only shaderInt64 (64-bit loads in CPU-class GEMM). */
    VkPhysicalDeviceFeatures have, want = {0};
    vkGetPhysicalDeviceFeatures(ctx->phys, &have);
    want.shaderInt64 = have.shaderInt64;
    ctx->shader_int64 = have.shaderInt64 == VK_TRUE;
    VkDeviceCreateInfo ci = {
        .sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
        .queueCreateInfoCount = 1,
        .pQueueCreateInfos = &q,
        .pEnabledFeatures = &want,
    };
    MVK_VK(ctx, vkCreateDevice(ctx->phys, &ci, NULL, &ctx->device));
    vkGetDeviceQueue(ctx->device, ctx->queue_family, 0, &ctx->queue);

    VkCommandPoolCreateInfo pci = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
        .flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT,
        .queueFamilyIndex = ctx->queue_family,
    };
    MVK_VK(ctx, vkCreateCommandPool(ctx->device, &pci, NULL, &ctx->cmd_pool));

    VkDescriptorSetLayoutBinding b[MVK_BINDINGS];
    for (uint32_t i = 0; i < MVK_BINDINGS; i++)
        b[i] = (VkDescriptorSetLayoutBinding){
            .binding = i,
            .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
            .descriptorCount = 1,
            .stageFlags = VK_SHADER_STAGE_COMPUTE_BIT,
        };
    VkDescriptorSetLayoutCreateInfo dl = {
        .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
        .bindingCount = MVK_BINDINGS,
        .pBindings = b,
    };
    MVK_VK(ctx, vkCreateDescriptorSetLayout(ctx->device, &dl, NULL, &ctx->set_layout));
    VkPushConstantRange pr = {.stageFlags = VK_SHADER_STAGE_COMPUTE_BIT, .size = MVK_PUSH_BYTES};
    VkPipelineLayoutCreateInfo pl = {
        .sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
        .setLayoutCount = 1,
        .pSetLayouts = &ctx->set_layout,
        .pushConstantRangeCount = 1,
        .pPushConstantRanges = &pr,
    };
    MVK_VK(ctx, vkCreatePipelineLayout(ctx->device, &pl, NULL, &ctx->pipe_layout));
    VkFenceCreateInfo fi = {.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
    MVK_VK(ctx, vkCreateFence(ctx->device, &fi, NULL, &ctx->fence));
    return mvk_mem_alloc(ctx, 256, MVK_MEM_DEVICE, &ctx->dummy);
}

static int env_flag(const char *name) {
    const char *v = getenv(name);
    return v && *v && strcmp(v, "0") != 0;
}

static mvk_log_level env_level(void) {
    const char *v = getenv("MIMOVK_LOG");
    if (!v) return MVK_LOG_WARN;
    if (!strcasecmp(v, "debug")) return MVK_LOG_DEBUG;
    if (!strcasecmp(v, "info")) return MVK_LOG_INFO;
    if (!strcasecmp(v, "error")) return MVK_LOG_ERROR;
    if (!strcasecmp(v, "none")) return MVK_LOG_NONE;
    return MVK_LOG_WARN;
}

static void log_device(mvk_ctx *ctx) {
    const mvk_device_info *d = &ctx->info;
    mvk_log(ctx, MVK_LOG_INFO,
            "device %d: %s (%s, driver %s %s), Vulkan %u.%u.%u, subgroup %u, fp16 %s, "
            "16-bit storage %s, push descriptors %s, shared memory %u B, workgroup %u invocations, "
            "storage range %llu B, %s memory, %s kernels",
            d->index, d->name, mvk_device_type_str(d->type), d->driver_name, d->driver_info,
            VK_API_VERSION_MAJOR(d->api_version), VK_API_VERSION_MINOR(d->api_version),
            VK_API_VERSION_PATCH(d->api_version), d->subgroup_size, d->fp16_arith ? "yes" : "no",
            d->storage16 ? "yes" : "no", d->push_descriptors ? "yes" : "no", d->max_shared_memory,
            d->max_workgroup_invocations, (unsigned long long)d->max_storage_buffer_range,
            d->unified_memory ? "unified" : "discrete", mvk_ctx_kernel_class(ctx));
}

static _Thread_local char create_error[1024];

const char *mvk_ctx_error(const mvk_ctx *ctx) { return ctx ? ctx->error : create_error; }

mvk_status mvk_ctx_create(const mvk_ctx_params *params, mvk_ctx **out) {
    if (!out) return MVK_ERR_INVALID_ARG;
    *out = NULL;
    mvk_ctx *ctx = mvk_calloc(1, sizeof *ctx);
    if (!ctx) {
        snprintf(create_error, sizeof create_error, "cannot allocate the context");
        return MVK_ERR_OUT_OF_HOST_MEMORY;
    }
    ctx->params = params ? *params : mvk_ctx_default_params();
    if ((int)ctx->params.log_level < 0) ctx->params.log_level = env_level();
    ctx->validation = ctx->params.validation < 0 ? env_flag("MIMOVK_VALIDATION")
                                                 : ctx->params.validation != 0;
    ctx->profile = ctx->params.profile < 0 ? env_flag("MIMOVK_PROFILE") : ctx->params.profile != 0;

    mvk_status s = vulkan_init();
    if (s != MVK_OK) {
        mvk_fail(ctx, s, "no Vulkan loader (install Debian's libvulkan1)");
        goto fail;
    }
    if ((s = create_instance(ctx, ctx->validation, &ctx->instance)) != MVK_OK) goto fail;
    if (ctx->validation) {
        VkDebugUtilsMessengerCreateInfoEXT mi = {
            .sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT,
            .messageSeverity = VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT |
                               VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT,
            .messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT |
                           VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT |
                           VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT,
            .pfnUserCallback = on_debug,
            .pUserData = ctx,
        };
        ctx->create_messenger = (PFN_vkCreateDebugUtilsMessengerEXT)vkGetInstanceProcAddr(
            ctx->instance, "vkCreateDebugUtilsMessengerEXT");
        ctx->destroy_messenger = (PFN_vkDestroyDebugUtilsMessengerEXT)vkGetInstanceProcAddr(
            ctx->instance, "vkDestroyDebugUtilsMessengerEXT");
        VkResult r = ctx->create_messenger && ctx->destroy_messenger
                         ? ctx->create_messenger(ctx->instance, &mi, NULL, &ctx->messenger)
                         : VK_ERROR_EXTENSION_NOT_PRESENT;
        if (r != VK_SUCCESS) {
            s = mvk_vk_fail(ctx, r, "vkCreateDebugUtilsMessengerEXT");
            goto fail;
        }
    }
    if ((s = pick_device(ctx)) != MVK_OK) goto fail;

    int kernels = ctx->params.kernels;
    const char *ek = getenv("MIMOVK_KERNELS");
    if (kernels < 0 && ek && !strcasecmp(ek, "cpu")) kernels = MVK_KERNELS_CPU;
    if (kernels < 0 && ek && !strcasecmp(ek, "gpu")) kernels = MVK_KERNELS_GPU;
    if (kernels < 0) kernels = ctx->info.type == MVK_DEVICE_CPU ? MVK_KERNELS_CPU : MVK_KERNELS_GPU;
    ctx->kernels = kernels;

    if ((s = create_device(ctx)) != MVK_OK) goto fail;
    if (ctx->profile && !ctx->info.timestamps) {
        mvk_log(ctx, MVK_LOG_WARN, "profiling requested but the compute queue has no timestamps");
        ctx->profile = false;
    }
    if ((s = mvk_pipeline_cache_open(ctx)) != MVK_OK) goto fail;
    log_device(ctx);
    *out = ctx;
    return MVK_OK;
fail:
    /* The context is gone: keep its message for mvk_ctx_error(NULL) on this thread. */
    snprintf(create_error, sizeof create_error, "%s", ctx->error);
    mvk_ctx_destroy(ctx);
    return s;
}

void mvk_ctx_destroy(mvk_ctx *ctx) {
    if (!ctx) return;
    if (ctx->device) {
        vkDeviceWaitIdle(ctx->device);
        mvk_pipeline_cache_close(ctx);
        mvk_pipelines_destroy(ctx);
        mvk_mem_free(ctx, &ctx->dummy);
        if (ctx->fence) vkDestroyFence(ctx->device, ctx->fence, NULL);
        if (ctx->pipe_layout) vkDestroyPipelineLayout(ctx->device, ctx->pipe_layout, NULL);
        if (ctx->set_layout) vkDestroyDescriptorSetLayout(ctx->device, ctx->set_layout, NULL);
        if (ctx->cmd_pool) vkDestroyCommandPool(ctx->device, ctx->cmd_pool, NULL);
        vkDestroyDevice(ctx->device, NULL);
    }
    if (ctx->messenger) ctx->destroy_messenger(ctx->instance, ctx->messenger, NULL);
    if (ctx->instance) vkDestroyInstance(ctx->instance, NULL);
    free(ctx->once);
    mvk_free(ctx);
}

const mvk_device_info *mvk_ctx_device(const mvk_ctx *ctx) { return ctx ? &ctx->info : NULL; }

const char *mvk_ctx_kernel_class(const mvk_ctx *ctx) {
    return ctx && ctx->kernels == MVK_KERNELS_CPU ? "cpu" : "gpu";
}

uint64_t mvk_ctx_pipelines_created(const mvk_ctx *ctx) { return ctx ? ctx->pipelines_created : 0; }
uint64_t mvk_ctx_device_memory(const mvk_ctx *ctx) { return ctx ? ctx->device_bytes : 0; }
