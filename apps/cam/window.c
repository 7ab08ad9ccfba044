/* The window: GLFW for the window and keys, Vulkan for presentation.
 *
 * Presentation has its own VkInstance and VkDevice on the physical device the model runs on
 * (matched by vendor, device id and name), so the inference thread keeps the mvk context to
 * itself: no queue is shared between threads and the public API needs nothing new. Each view is
 * an RGBA canvas drawn on the CPU; it is copied into a host-visible buffer, then with transfer
 * commands only (no graphics pipeline): buffer -> canvas image (vkCmdCopyBufferToImage) ->
 * swapchain image (vkCmdBlitImage, scaled to the window with the aspect kept). Two views are in
 * flight, each with its own buffer, image, command buffer, fence and acquire semaphore; every
 * swapchain image has its own "copied" semaphore for present. Vulkan functions come from GLFW's
 * loader (glfwGetInstanceProcAddress) into a table of our own, apart from the library's volk. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GLFW_INCLUDE_VULKAN
#include <GLFW/glfw3.h>

#include "cam.h"

#define INSTANCE_FNS(X)                                                                                 \
    X(vkDestroyInstance) X(vkEnumeratePhysicalDevices) X(vkGetPhysicalDeviceProperties)                 \
    X(vkGetPhysicalDeviceQueueFamilyProperties) X(vkGetPhysicalDeviceMemoryProperties)                  \
    X(vkGetPhysicalDeviceFormatProperties) X(vkGetPhysicalDeviceSurfaceSupportKHR)                      \
    X(vkGetPhysicalDeviceSurfaceCapabilitiesKHR) X(vkGetPhysicalDeviceSurfaceFormatsKHR)                \
    X(vkDestroySurfaceKHR) X(vkCreateDevice) X(vkGetDeviceProcAddr)                                     \
    X(vkEnumerateDeviceExtensionProperties)
#define DEVICE_FNS(X)                                                                                   \
    X(vkDestroyDevice) X(vkGetDeviceQueue) X(vkDeviceWaitIdle) X(vkCreateSwapchainKHR)                  \
    X(vkDestroySwapchainKHR) X(vkGetSwapchainImagesKHR) X(vkAcquireNextImageKHR) X(vkQueuePresentKHR)   \
    X(vkQueueSubmit) X(vkCreateCommandPool) X(vkDestroyCommandPool) X(vkAllocateCommandBuffers)         \
    X(vkBeginCommandBuffer) X(vkEndCommandBuffer) X(vkCmdPipelineBarrier) X(vkCmdCopyBufferToImage)     \
    X(vkCmdBlitImage) X(vkCmdClearColorImage) X(vkCreateFence) X(vkDestroyFence) X(vkWaitForFences)     \
    X(vkResetFences) X(vkCreateSemaphore) X(vkDestroySemaphore) X(vkCreateBuffer) X(vkDestroyBuffer)    \
    X(vkGetBufferMemoryRequirements) X(vkAllocateMemory) X(vkFreeMemory) X(vkBindBufferMemory)          \
    X(vkMapMemory) X(vkCreateImage) X(vkDestroyImage) X(vkGetImageMemoryRequirements)                   \
    X(vkBindImageMemory)

#define DECLARE(f) PFN_##f f;

enum { IN_FLIGHT = 2, MAX_IMAGES = 8 };

typedef struct view_slot {
    VkBuffer staging;
    VkDeviceMemory staging_mem;
    void *mapped;
    VkImage image;
    VkDeviceMemory image_mem;
    VkCommandBuffer cmd;
    VkFence fence;
    VkSemaphore acquired;
} view_slot;

struct cam_window {
    GLFWwindow *window;
    bool glfw_up;
    int keys[64];
    int nkeys;
    /* Vulkan */
    VkInstance instance;
    VkDebugUtilsMessengerEXT messenger;
    PFN_vkDestroyDebugUtilsMessengerEXT destroy_messenger;
    VkSurfaceKHR surface;
    VkPhysicalDevice phys;
    VkPhysicalDeviceMemoryProperties memprops;
    char device_name[600];
    uint32_t family;
    VkDevice device;
    VkQueue queue;
    VkCommandPool pool;
    VkSwapchainKHR swapchain;
    VkFormat format, canvas_format;
    VkExtent2D extent;
    VkImage images[MAX_IMAGES];
    VkSemaphore copied[MAX_IMAGES];
    uint32_t nimages;
    bool stale;              /* swapchain needs recreating */
    VkFilter filter;
    view_slot slot[IN_FLIGHT];
    int canvas_w, canvas_h;  /* size the slots were made for */
    uint64_t frame;
    int validation_messages;
    PFN_vkCreateInstance vkCreateInstance;
    PFN_vkEnumerateInstanceLayerProperties vkEnumerateInstanceLayerProperties;
    INSTANCE_FNS(DECLARE)
    DEVICE_FNS(DECLARE)
};

static char glfw_error[512];

static void on_glfw_error(int code, const char *desc) {
    snprintf(glfw_error, sizeof glfw_error, "%s (GLFW error 0x%x)", desc ? desc : "?", code);
}

static const char *vk_str(VkResult r) {
    switch (r) {
    case VK_SUCCESS: return "VK_SUCCESS";
    case VK_NOT_READY: return "VK_NOT_READY";
    case VK_TIMEOUT: return "VK_TIMEOUT";
    case VK_SUBOPTIMAL_KHR: return "VK_SUBOPTIMAL_KHR";
    case VK_ERROR_OUT_OF_HOST_MEMORY: return "VK_ERROR_OUT_OF_HOST_MEMORY";
    case VK_ERROR_OUT_OF_DEVICE_MEMORY: return "VK_ERROR_OUT_OF_DEVICE_MEMORY";
    case VK_ERROR_INITIALIZATION_FAILED: return "VK_ERROR_INITIALIZATION_FAILED";
    case VK_ERROR_DEVICE_LOST: return "VK_ERROR_DEVICE_LOST";
    case VK_ERROR_LAYER_NOT_PRESENT: return "VK_ERROR_LAYER_NOT_PRESENT";
    case VK_ERROR_EXTENSION_NOT_PRESENT: return "VK_ERROR_EXTENSION_NOT_PRESENT";
    case VK_ERROR_INCOMPATIBLE_DRIVER: return "VK_ERROR_INCOMPATIBLE_DRIVER";
    case VK_ERROR_SURFACE_LOST_KHR: return "VK_ERROR_SURFACE_LOST_KHR";
    case VK_ERROR_NATIVE_WINDOW_IN_USE_KHR: return "VK_ERROR_NATIVE_WINDOW_IN_USE_KHR";
    case VK_ERROR_OUT_OF_DATE_KHR: return "VK_ERROR_OUT_OF_DATE_KHR";
    default: return "VkResult";
    }
}

/* Every Vulkan call goes through CHECK: a failure names the call and the VkResult. */
#define CHECK(call)                                                                                     \
    do {                                                                                                \
        VkResult r_ = (call);                                                                           \
        if (r_ != VK_SUCCESS) {                                                                         \
            snprintf(err, errsz, "%s: %s (%d)", #call, vk_str(r_), (int)r_);                            \
            return false;                                                                               \
        }                                                                                               \
    } while (0)

static VKAPI_ATTR VkBool32 VKAPI_CALL on_debug(VkDebugUtilsMessageSeverityFlagBitsEXT sev,
                                               VkDebugUtilsMessageTypeFlagsEXT type,
                                               const VkDebugUtilsMessengerCallbackDataEXT *data, void *user) {
    (void)type;
    cam_window *w = user;
    if (sev < VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT) return VK_FALSE;
    fprintf(stderr, "mimovk-cam: validation: %s\n", data && data->pMessage ? data->pMessage : "(no message)");
    w->validation_messages++;
    return VK_FALSE;
}

static void on_char(GLFWwindow *win, unsigned int cp) {
    cam_window *w = glfwGetWindowUserPointer(win);
    if (cp < 128 && w->nkeys < (int)(sizeof w->keys / sizeof *w->keys)) w->keys[w->nkeys++] = (int)cp;
}

static void on_key(GLFWwindow *win, int key, int scancode, int action, int mods) {
    (void)scancode, (void)mods;
    cam_window *w = glfwGetWindowUserPointer(win);
    if (action == GLFW_PRESS && key == GLFW_KEY_ESCAPE && w->nkeys < (int)(sizeof w->keys / sizeof *w->keys))
        w->keys[w->nkeys++] = 27;
}

static bool has_layer(cam_window *w, const char *name) {
    uint32_t n = 0;
    if (w->vkEnumerateInstanceLayerProperties(&n, NULL) != VK_SUCCESS || !n) return false;
    VkLayerProperties *p = calloc(n, sizeof *p);
    bool found = false;
    if (p && w->vkEnumerateInstanceLayerProperties(&n, p) == VK_SUCCESS)
        for (uint32_t i = 0; i < n && !found; i++) found = !strcmp(p[i].layerName, name);
    free(p);
    return found;
}

static bool create_instance(cam_window *w, bool validation, char *err, size_t errsz) {
#define LOAD_GLOBAL(f) w->f = (PFN_##f)glfwGetInstanceProcAddress(NULL, #f);
    LOAD_GLOBAL(vkCreateInstance)
    LOAD_GLOBAL(vkEnumerateInstanceLayerProperties)
    if (!w->vkCreateInstance || !w->vkEnumerateInstanceLayerProperties)
        return snprintf(err, errsz, "no Vulkan loader entry points"), false;
    uint32_t next = 0;
    const char **glfw_exts = glfwGetRequiredInstanceExtensions(&next);
    if (!glfw_exts) return snprintf(err, errsz, "no Vulkan surface extensions for this window system: %s", glfw_error), false;
    const char *exts[16];
    uint32_t ne = 0;
    for (uint32_t i = 0; i < next && ne < 15; i++) exts[ne++] = glfw_exts[i];
    const char *layers[1];
    uint32_t nl = 0;
    if (validation) {
        if (!has_layer(w, "VK_LAYER_KHRONOS_validation"))
            return snprintf(err, errsz, "validation requested but VK_LAYER_KHRONOS_validation is not installed "
                                        "(Debian package vulkan-validationlayers)"), false;
        layers[nl++] = "VK_LAYER_KHRONOS_validation";
        exts[ne++] = VK_EXT_DEBUG_UTILS_EXTENSION_NAME;
    }
    VkApplicationInfo app = {.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO, .pApplicationName = "mimovk-cam",
                             .pEngineName = "mimovk", .apiVersion = VK_API_VERSION_1_1};
    VkInstanceCreateInfo ci = {.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO, .pApplicationInfo = &app,
                               .enabledLayerCount = nl, .ppEnabledLayerNames = layers,
                               .enabledExtensionCount = ne, .ppEnabledExtensionNames = exts};
    CHECK(w->vkCreateInstance(&ci, NULL, &w->instance));
#define LOAD_INSTANCE(f)                                                                                \
    if (!(w->f = (PFN_##f)glfwGetInstanceProcAddress(w->instance, #f)))                                 \
        return snprintf(err, errsz, "Vulkan function %s not found", #f), false;
    INSTANCE_FNS(LOAD_INSTANCE)
    if (validation) {
        PFN_vkCreateDebugUtilsMessengerEXT create =
            (PFN_vkCreateDebugUtilsMessengerEXT)glfwGetInstanceProcAddress(w->instance, "vkCreateDebugUtilsMessengerEXT");
        w->destroy_messenger =
            (PFN_vkDestroyDebugUtilsMessengerEXT)glfwGetInstanceProcAddress(w->instance, "vkDestroyDebugUtilsMessengerEXT");
        if (!create || !w->destroy_messenger) return snprintf(err, errsz, "VK_EXT_debug_utils functions missing"), false;
        VkDebugUtilsMessengerCreateInfoEXT mi = {
            .sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT,
            .messageSeverity = VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT,
            .messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT |
                           VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT,
            .pfnUserCallback = on_debug,
            .pUserData = w};
        CHECK(create(w->instance, &mi, NULL, &w->messenger));
    }
    return true;
}

/* A queue family with graphics (vkCmdBlitImage needs it) that can present to the surface. */
static bool present_family(cam_window *w, VkPhysicalDevice pd, uint32_t *family) {
    uint32_t n = 0;
    w->vkGetPhysicalDeviceQueueFamilyProperties(pd, &n, NULL);
    VkQueueFamilyProperties qf[32];
    if (n > 32) n = 32;
    w->vkGetPhysicalDeviceQueueFamilyProperties(pd, &n, qf);
    for (uint32_t i = 0; i < n; i++) {
        VkBool32 ok = VK_FALSE;
        if (!(qf[i].queueFlags & VK_QUEUE_GRAPHICS_BIT)) continue;
        if (w->vkGetPhysicalDeviceSurfaceSupportKHR(pd, i, w->surface, &ok) == VK_SUCCESS && ok) {
            *family = i;
            return true;
        }
    }
    return false;
}

static bool has_swapchain_ext(cam_window *w, VkPhysicalDevice pd) {
    uint32_t n = 0;
    if (w->vkEnumerateDeviceExtensionProperties(pd, NULL, &n, NULL) != VK_SUCCESS || !n) return false;
    VkExtensionProperties *p = calloc(n, sizeof *p);
    bool found = false;
    if (p && w->vkEnumerateDeviceExtensionProperties(pd, NULL, &n, p) == VK_SUCCESS)
        for (uint32_t i = 0; i < n && !found; i++) found = !strcmp(p[i].extensionName, VK_KHR_SWAPCHAIN_EXTENSION_NAME);
    free(p);
    return found;
}

static bool pick_device(cam_window *w, const mvk_device_info *want, char *err, size_t errsz) {
    uint32_t n = 0;
    CHECK(w->vkEnumeratePhysicalDevices(w->instance, &n, NULL));
    VkPhysicalDevice pds[16];
    if (n > 16) n = 16;
    if (!n) return snprintf(err, errsz, "no Vulkan device"), false;
    VkResult r = w->vkEnumeratePhysicalDevices(w->instance, &n, pds);
    if (r != VK_SUCCESS && r != VK_INCOMPLETE)
        return snprintf(err, errsz, "vkEnumeratePhysicalDevices: %s (%d)", vk_str(r), (int)r), false;
    int best = -1;
    uint32_t fam = 0;
    for (int pass = 0; pass < 2 && best < 0; pass++)
        for (uint32_t i = 0; i < n && best < 0; i++) {
            VkPhysicalDeviceProperties p;
            w->vkGetPhysicalDeviceProperties(pds[i], &p);
            bool same = want && p.vendorID == want->vendor_id && p.deviceID == want->device_id &&
                        !strcmp(p.deviceName, want->name);
            if ((pass == 0) != same) continue;
            if (has_swapchain_ext(w, pds[i]) && present_family(w, pds[i], &fam)) {
                best = (int)i;
                snprintf(w->device_name, sizeof w->device_name, "%s%s%s%s", p.deviceName,
                         same ? " (the device the model runs on)" : " (the model runs on ",
                         same ? "" : want ? want->name : "?", same ? "" : ": it cannot present to this window)");
            }
        }
    if (best < 0) return snprintf(err, errsz, "no Vulkan device can present to this window"), false;
    w->phys = pds[best];
    w->family = fam;
    w->vkGetPhysicalDeviceMemoryProperties(w->phys, &w->memprops);
    return true;
}

static bool create_device(cam_window *w, char *err, size_t errsz) {
    float prio = 1.0f;
    VkDeviceQueueCreateInfo qi = {.sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO, .queueFamilyIndex = w->family,
                                  .queueCount = 1, .pQueuePriorities = &prio};
    const char *ext = VK_KHR_SWAPCHAIN_EXTENSION_NAME;
    VkDeviceCreateInfo ci = {.sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO, .queueCreateInfoCount = 1,
                             .pQueueCreateInfos = &qi, .enabledExtensionCount = 1, .ppEnabledExtensionNames = &ext};
    CHECK(w->vkCreateDevice(w->phys, &ci, NULL, &w->device));
    const char *missing = NULL;
#define LOAD_DEVICE(f)                                                                                  \
    if (!(w->f = (PFN_##f)w->vkGetDeviceProcAddr(w->device, #f)) && !missing) missing = #f;
    DEVICE_FNS(LOAD_DEVICE)
    if (missing) {
        if (w->vkDestroyDevice) w->vkDestroyDevice(w->device, NULL);
        w->device = VK_NULL_HANDLE;
        return snprintf(err, errsz, "Vulkan function %s not found", missing), false;
    }
    w->vkGetDeviceQueue(w->device, w->family, 0, &w->queue);
    VkCommandPoolCreateInfo pi = {.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
                                  .flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT, .queueFamilyIndex = w->family};
    CHECK(w->vkCreateCommandPool(w->device, &pi, NULL, &w->pool));
    for (int i = 0; i < IN_FLIGHT; i++) {
        view_slot *s = &w->slot[i];
        VkCommandBufferAllocateInfo ai = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO, .commandPool = w->pool,
                                          .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY, .commandBufferCount = 1};
        CHECK(w->vkAllocateCommandBuffers(w->device, &ai, &s->cmd));
        VkFenceCreateInfo fi = {.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO, .flags = VK_FENCE_CREATE_SIGNALED_BIT};
        CHECK(w->vkCreateFence(w->device, &fi, NULL, &s->fence));
        VkSemaphoreCreateInfo si = {.sType = VK_STRUCTURE_TYPE_SEMAPHORE_CREATE_INFO};
        CHECK(w->vkCreateSemaphore(w->device, &si, NULL, &s->acquired));
    }
    return true;
}

static bool memory_type(cam_window *w, uint32_t bits, VkMemoryPropertyFlags need, VkMemoryPropertyFlags prefer,
                        uint32_t *out) {
    for (int pass = 0; pass < 2; pass++)
        for (uint32_t i = 0; i < w->memprops.memoryTypeCount; i++) {
            VkMemoryPropertyFlags f = w->memprops.memoryTypes[i].propertyFlags;
            if (!(bits & (1u << i)) || (f & need) != need) continue;
            if (pass == 0 && (f & prefer) != prefer) continue;
            *out = i;
            return true;
        }
    return false;
}

static void destroy_swapchain(cam_window *w) {
    for (uint32_t i = 0; i < MAX_IMAGES; i++)
        if (w->copied[i]) w->vkDestroySemaphore(w->device, w->copied[i], NULL), w->copied[i] = VK_NULL_HANDLE;
    if (w->swapchain) w->vkDestroySwapchainKHR(w->device, w->swapchain, NULL);
    w->swapchain = VK_NULL_HANDLE;
    w->nimages = 0;
}

/* (Re)creates the swapchain for the window's current size. A zero-sized (minimised) window gets
 * none: views are skipped until it has a size again. */
static bool create_swapchain(cam_window *w, char *err, size_t errsz) {
    if (w->swapchain) CHECK(w->vkDeviceWaitIdle(w->device));
    destroy_swapchain(w);
    w->stale = false;
    VkSurfaceCapabilitiesKHR caps;
    CHECK(w->vkGetPhysicalDeviceSurfaceCapabilitiesKHR(w->phys, w->surface, &caps));
    VkExtent2D e = caps.currentExtent;
    if (e.width == UINT32_MAX) {
        int fw = 0, fh = 0;
        glfwGetFramebufferSize(w->window, &fw, &fh);
        e.width = (uint32_t)fw, e.height = (uint32_t)fh;
        if (e.width < caps.minImageExtent.width) e.width = caps.minImageExtent.width;
        if (e.height < caps.minImageExtent.height) e.height = caps.minImageExtent.height;
        if (e.width > caps.maxImageExtent.width) e.width = caps.maxImageExtent.width;
        if (e.height > caps.maxImageExtent.height) e.height = caps.maxImageExtent.height;
    }
    w->extent = e;
    if (!e.width || !e.height) return true;
    if (!(caps.supportedUsageFlags & VK_IMAGE_USAGE_TRANSFER_DST_BIT))
        return snprintf(err, errsz, "the swapchain images cannot be transfer destinations on this device"), false;
    if (!w->format) {
        uint32_t n = 0;
        CHECK(w->vkGetPhysicalDeviceSurfaceFormatsKHR(w->phys, w->surface, &n, NULL));
        VkSurfaceFormatKHR fmts[64];
        if (n > 64) n = 64;
        if (!n) return snprintf(err, errsz, "the surface offers no format"), false;
        VkResult r = w->vkGetPhysicalDeviceSurfaceFormatsKHR(w->phys, w->surface, &n, fmts);
        if (r != VK_SUCCESS && r != VK_INCOMPLETE)
            return snprintf(err, errsz, "vkGetPhysicalDeviceSurfaceFormatsKHR: %s (%d)", vk_str(r), (int)r), false;
        /* 8-bit UNORM first (the canvas goes through unchanged), then sRGB (an sRGB canvas image
         * makes the blit a plain copy too). */
        static const VkFormat order[4] = {VK_FORMAT_B8G8R8A8_UNORM, VK_FORMAT_R8G8B8A8_UNORM, VK_FORMAT_B8G8R8A8_SRGB,
                                          VK_FORMAT_R8G8B8A8_SRGB};
        for (int k = 0; k < 4 && !w->format; k++)
            for (uint32_t i = 0; i < n; i++)
                if (fmts[i].format == order[k] && fmts[i].colorSpace == VK_COLOR_SPACE_SRGB_NONLINEAR_KHR) {
                    w->format = order[k];
                    break;
                }
        if (!w->format) return snprintf(err, errsz, "the surface offers no 8-bit RGBA/BGRA format"), false;
        bool srgb = w->format == VK_FORMAT_B8G8R8A8_SRGB || w->format == VK_FORMAT_R8G8B8A8_SRGB;
        w->canvas_format = srgb ? VK_FORMAT_R8G8B8A8_SRGB : VK_FORMAT_R8G8B8A8_UNORM;
        VkFormatProperties dst, src;
        w->vkGetPhysicalDeviceFormatProperties(w->phys, w->format, &dst);
        w->vkGetPhysicalDeviceFormatProperties(w->phys, w->canvas_format, &src);
        if (!(dst.optimalTilingFeatures & VK_FORMAT_FEATURE_BLIT_DST_BIT) ||
            !(src.optimalTilingFeatures & VK_FORMAT_FEATURE_BLIT_SRC_BIT))
            return snprintf(err, errsz, "this device cannot blit into the swapchain's format"), false;
        w->filter = src.optimalTilingFeatures & VK_FORMAT_FEATURE_SAMPLED_IMAGE_FILTER_LINEAR_BIT ? VK_FILTER_LINEAR
                                                                                                : VK_FILTER_NEAREST;
    }
    uint32_t count = caps.minImageCount + 1;
    if (caps.maxImageCount && count > caps.maxImageCount) count = caps.maxImageCount;
    VkCompositeAlphaFlagBitsKHR alpha = VK_COMPOSITE_ALPHA_OPAQUE_BIT_KHR;
    if (!(caps.supportedCompositeAlpha & alpha))
        for (uint32_t b = 1; b <= VK_COMPOSITE_ALPHA_INHERIT_BIT_KHR; b <<= 1)
            if (caps.supportedCompositeAlpha & b) {
                alpha = (VkCompositeAlphaFlagBitsKHR)b;
                break;
            }
    VkSwapchainCreateInfoKHR ci = {
        .sType = VK_STRUCTURE_TYPE_SWAPCHAIN_CREATE_INFO_KHR, .surface = w->surface, .minImageCount = count,
        .imageFormat = w->format, .imageColorSpace = VK_COLOR_SPACE_SRGB_NONLINEAR_KHR, .imageExtent = e,
        .imageArrayLayers = 1, .imageUsage = VK_IMAGE_USAGE_TRANSFER_DST_BIT,
        .imageSharingMode = VK_SHARING_MODE_EXCLUSIVE, .preTransform = caps.currentTransform,
        .compositeAlpha = alpha, .presentMode = VK_PRESENT_MODE_FIFO_KHR, .clipped = VK_TRUE};
    CHECK(w->vkCreateSwapchainKHR(w->device, &ci, NULL, &w->swapchain));
    uint32_t n = 0;
    CHECK(w->vkGetSwapchainImagesKHR(w->device, w->swapchain, &n, NULL));
    if (n > MAX_IMAGES) return snprintf(err, errsz, "the swapchain has %u images (more than %d)", n, MAX_IMAGES), false;
    CHECK(w->vkGetSwapchainImagesKHR(w->device, w->swapchain, &n, w->images));
    w->nimages = n;
    for (uint32_t i = 0; i < n; i++) {
        VkSemaphoreCreateInfo si = {.sType = VK_STRUCTURE_TYPE_SEMAPHORE_CREATE_INFO};
        CHECK(w->vkCreateSemaphore(w->device, &si, NULL, &w->copied[i]));
    }
    return true;
}

static void destroy_slots(cam_window *w) {
    for (int i = 0; i < IN_FLIGHT; i++) {
        view_slot *s = &w->slot[i];
        if (s->staging) w->vkDestroyBuffer(w->device, s->staging, NULL);
        if (s->staging_mem) w->vkFreeMemory(w->device, s->staging_mem, NULL); /* unmaps */
        if (s->image) w->vkDestroyImage(w->device, s->image, NULL);
        if (s->image_mem) w->vkFreeMemory(w->device, s->image_mem, NULL);
        s->staging = VK_NULL_HANDLE, s->staging_mem = VK_NULL_HANDLE, s->mapped = NULL;
        s->image = VK_NULL_HANDLE, s->image_mem = VK_NULL_HANDLE;
    }
    w->canvas_w = w->canvas_h = 0;
}

/* Staging buffers and canvas images for a canvas of cw x ch. */
static bool create_slots(cam_window *w, int cw, int ch, char *err, size_t errsz) {
    if (w->canvas_w) CHECK(w->vkDeviceWaitIdle(w->device));
    destroy_slots(w);
    VkDeviceSize bytes = (VkDeviceSize)cw * ch * 4;
    for (int i = 0; i < IN_FLIGHT; i++) {
        view_slot *s = &w->slot[i];
        VkBufferCreateInfo bi = {.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO, .size = bytes,
                                 .usage = VK_BUFFER_USAGE_TRANSFER_SRC_BIT, .sharingMode = VK_SHARING_MODE_EXCLUSIVE};
        CHECK(w->vkCreateBuffer(w->device, &bi, NULL, &s->staging));
        VkMemoryRequirements mr;
        w->vkGetBufferMemoryRequirements(w->device, s->staging, &mr);
        uint32_t type;
        if (!memory_type(w, mr.memoryTypeBits, VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT,
                         0, &type))
            return snprintf(err, errsz, "no host-visible coherent memory for the view"), false;
        VkMemoryAllocateInfo ai = {.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO, .allocationSize = mr.size,
                                   .memoryTypeIndex = type};
        CHECK(w->vkAllocateMemory(w->device, &ai, NULL, &s->staging_mem));
        CHECK(w->vkBindBufferMemory(w->device, s->staging, s->staging_mem, 0));
        CHECK(w->vkMapMemory(w->device, s->staging_mem, 0, VK_WHOLE_SIZE, 0, &s->mapped));
        VkImageCreateInfo ii = {.sType = VK_STRUCTURE_TYPE_IMAGE_CREATE_INFO, .imageType = VK_IMAGE_TYPE_2D,
                                .format = w->canvas_format, .extent = {(uint32_t)cw, (uint32_t)ch, 1}, .mipLevels = 1,
                                .arrayLayers = 1, .samples = VK_SAMPLE_COUNT_1_BIT, .tiling = VK_IMAGE_TILING_OPTIMAL,
                                .usage = VK_IMAGE_USAGE_TRANSFER_DST_BIT | VK_IMAGE_USAGE_TRANSFER_SRC_BIT,
                                .sharingMode = VK_SHARING_MODE_EXCLUSIVE, .initialLayout = VK_IMAGE_LAYOUT_UNDEFINED};
        CHECK(w->vkCreateImage(w->device, &ii, NULL, &s->image));
        w->vkGetImageMemoryRequirements(w->device, s->image, &mr);
        if (!memory_type(w, mr.memoryTypeBits, 0, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, &type))
            return snprintf(err, errsz, "no memory type for the view image"), false;
        ai.allocationSize = mr.size;
        ai.memoryTypeIndex = type;
        CHECK(w->vkAllocateMemory(w->device, &ai, NULL, &s->image_mem));
        CHECK(w->vkBindImageMemory(w->device, s->image, s->image_mem, 0));
    }
    w->canvas_w = cw, w->canvas_h = ch;
    return true;
}

bool cam_window_open(const mvk_device_info *dev, int width, int height, const char *title, bool validation,
                     cam_window **out, char *err, size_t errsz) {
    *out = NULL;
    cam_window *w = calloc(1, sizeof *w);
    if (!w) return snprintf(err, errsz, "out of memory"), false;
    glfwSetErrorCallback(on_glfw_error);
    glfw_error[0] = 0;
    bool ok = false;
    if (!glfwInit()) {
        const char *x = getenv("DISPLAY"), *wl = getenv("WAYLAND_DISPLAY");
        snprintf(err, errsz, "no display (%s)%s", glfw_error,
                 (x && *x) || (wl && *wl) ? "" : "; DISPLAY is not set: use --headless --out DIR");
        goto done;
    }
    w->glfw_up = true;
    if (!glfwVulkanSupported()) {
        snprintf(err, errsz, "GLFW finds no Vulkan loader with surface support (%s)", glfw_error);
        goto done;
    }
    glfwWindowHint(GLFW_CLIENT_API, GLFW_NO_API);
    if (!create_instance(w, validation, err, errsz)) goto done;
    if (!(w->window = glfwCreateWindow(width, height, title, NULL, NULL))) {
        snprintf(err, errsz, "glfwCreateWindow: %s", glfw_error);
        goto done;
    }
    glfwSetWindowUserPointer(w->window, w);
    glfwSetCharCallback(w->window, on_char);
    glfwSetKeyCallback(w->window, on_key);
    VkResult r = glfwCreateWindowSurface(w->instance, w->window, NULL, &w->surface);
    if (r != VK_SUCCESS) {
        snprintf(err, errsz, "glfwCreateWindowSurface: %s (%d) %s", vk_str(r), (int)r, glfw_error);
        goto done;
    }
    ok = pick_device(w, dev, err, errsz) && create_device(w, err, errsz) && create_swapchain(w, err, errsz) &&
         create_slots(w, width, height, err, errsz);
done:
    if (!ok) {
        cam_window_close(w);
        return false;
    }
    *out = w;
    return true;
}

int cam_window_poll(cam_window *w, int *keys, int max) {
    w->nkeys = 0;
    glfwPollEvents();
    int n = w->nkeys < max ? w->nkeys : max;
    memcpy(keys, w->keys, (size_t)n * sizeof *keys);
    return n;
}

bool cam_window_should_close(const cam_window *w) { return glfwWindowShouldClose(w->window); }

static void barrier(cam_window *w, VkCommandBuffer cb, VkImage img, VkImageLayout from, VkImageLayout to,
                    VkAccessFlags src_access, VkAccessFlags dst_access, VkPipelineStageFlags src_stage,
                    VkPipelineStageFlags dst_stage) {
    VkImageMemoryBarrier b = {.sType = VK_STRUCTURE_TYPE_IMAGE_MEMORY_BARRIER, .srcAccessMask = src_access,
                              .dstAccessMask = dst_access, .oldLayout = from, .newLayout = to,
                              .srcQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED, .dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
                              .image = img, .subresourceRange = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1}};
    w->vkCmdPipelineBarrier(cb, src_stage, dst_stage, 0, 0, NULL, 0, NULL, 1, &b);
}

bool cam_window_present(cam_window *w, const cam_canvas *c, char *err, size_t errsz) {
    if (w->stale || !w->swapchain) {
        int fw = 0, fh = 0;
        glfwGetFramebufferSize(w->window, &fw, &fh);
        if (!fw || !fh) return true; /* minimised */
        if (!create_swapchain(w, err, errsz)) return false;
        if (!w->swapchain) return true;
    }
    if (c->w != w->canvas_w || c->h != w->canvas_h)
        if (!create_slots(w, c->w, c->h, err, errsz)) return false;
    view_slot *s = &w->slot[w->frame % IN_FLIGHT];
    CHECK(w->vkWaitForFences(w->device, 1, &s->fence, VK_TRUE, UINT64_MAX));
    uint32_t idx = 0;
    VkResult r = w->vkAcquireNextImageKHR(w->device, w->swapchain, 1000000000ull, s->acquired, VK_NULL_HANDLE, &idx);
    if (r == VK_ERROR_OUT_OF_DATE_KHR) {
        w->stale = true;
        return true;
    }
    if (r == VK_TIMEOUT || r == VK_NOT_READY) return true; /* skip this view */
    if (r != VK_SUCCESS && r != VK_SUBOPTIMAL_KHR)
        return snprintf(err, errsz, "vkAcquireNextImageKHR: %s (%d)", vk_str(r), (int)r), false;
    if (r == VK_SUBOPTIMAL_KHR) w->stale = true;
    memcpy(s->mapped, c->px, (size_t)c->w * c->h * 4);
    CHECK(w->vkResetFences(w->device, 1, &s->fence));
    VkCommandBuffer cb = s->cmd;
    VkCommandBufferBeginInfo bi = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
                                   .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT};
    CHECK(w->vkBeginCommandBuffer(cb, &bi));
    VkImage dst = w->images[idx];
    const VkPipelineStageFlags T = VK_PIPELINE_STAGE_TRANSFER_BIT;
    barrier(w, cb, s->image, VK_IMAGE_LAYOUT_UNDEFINED, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, 0,
            VK_ACCESS_TRANSFER_WRITE_BIT, VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT, T);
    VkBufferImageCopy copy = {.imageSubresource = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1},
                              .imageExtent = {(uint32_t)c->w, (uint32_t)c->h, 1}};
    w->vkCmdCopyBufferToImage(cb, s->staging, s->image, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, 1, &copy);
    barrier(w, cb, s->image, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL,
            VK_ACCESS_TRANSFER_WRITE_BIT, VK_ACCESS_TRANSFER_READ_BIT, T, T);
    /* The swapchain image: its acquire semaphore is waited at the transfer stage. */
    barrier(w, cb, dst, VK_IMAGE_LAYOUT_UNDEFINED, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, 0,
            VK_ACCESS_TRANSFER_WRITE_BIT, T, T);
    double sc = (double)w->extent.width / c->w < (double)w->extent.height / c->h ? (double)w->extent.width / c->w
                                                                                  : (double)w->extent.height / c->h;
    int32_t dw = (int32_t)(c->w * sc), dh = (int32_t)(c->h * sc);
    int32_t ox = ((int32_t)w->extent.width - dw) / 2, oy = ((int32_t)w->extent.height - dh) / 2;
    if (dw != (int32_t)w->extent.width || dh != (int32_t)w->extent.height) {
        /* Letterbox: clear the image first (the blit then writes the same image: a barrier between). */
        VkClearColorValue bg = {.float32 = {CAM_COLOR_BG.r / 255.0f, CAM_COLOR_BG.g / 255.0f, CAM_COLOR_BG.b / 255.0f, 1}};
        VkImageSubresourceRange range = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1};
        w->vkCmdClearColorImage(cb, dst, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, &bg, 1, &range);
        barrier(w, cb, dst, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL,
                VK_ACCESS_TRANSFER_WRITE_BIT, VK_ACCESS_TRANSFER_WRITE_BIT, T, T);
    }
    if (dw > 0 && dh > 0) {
        VkImageBlit blit = {.srcSubresource = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1},
                            .srcOffsets = {{0, 0, 0}, {c->w, c->h, 1}},
                            .dstSubresource = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1},
                            .dstOffsets = {{ox, oy, 0}, {ox + dw, oy + dh, 1}}};
        w->vkCmdBlitImage(cb, s->image, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL, dst, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, 1,
                          &blit, dw == c->w && dh == c->h ? VK_FILTER_NEAREST : w->filter);
    }
    barrier(w, cb, dst, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, VK_IMAGE_LAYOUT_PRESENT_SRC_KHR,
            VK_ACCESS_TRANSFER_WRITE_BIT, 0, T, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT);
    CHECK(w->vkEndCommandBuffer(cb));
    VkSubmitInfo si = {.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO, .waitSemaphoreCount = 1, .pWaitSemaphores = &s->acquired,
                       .pWaitDstStageMask = &T, .commandBufferCount = 1, .pCommandBuffers = &cb,
                       .signalSemaphoreCount = 1, .pSignalSemaphores = &w->copied[idx]};
    CHECK(w->vkQueueSubmit(w->queue, 1, &si, s->fence));
    VkPresentInfoKHR pi = {.sType = VK_STRUCTURE_TYPE_PRESENT_INFO_KHR, .waitSemaphoreCount = 1,
                           .pWaitSemaphores = &w->copied[idx], .swapchainCount = 1, .pSwapchains = &w->swapchain,
                           .pImageIndices = &idx};
    r = w->vkQueuePresentKHR(w->queue, &pi);
    w->frame++;
    if (r == VK_ERROR_OUT_OF_DATE_KHR || r == VK_SUBOPTIMAL_KHR) w->stale = true;
    else if (r != VK_SUCCESS) return snprintf(err, errsz, "vkQueuePresentKHR: %s (%d)", vk_str(r), (int)r), false;
    return true;
}

int cam_window_validation_messages(const cam_window *w) { return w->validation_messages; }

const char *cam_window_device_name(const cam_window *w) { return w->device_name; }

void cam_window_close(cam_window *w) {
    if (!w) return;
    if (w->device) {
        /* Nothing useful to do on failure here: the device is going away either way. */
        (void)w->vkDeviceWaitIdle(w->device);
        destroy_slots(w);
        destroy_swapchain(w);
        for (int i = 0; i < IN_FLIGHT; i++) {
            if (w->slot[i].fence) w->vkDestroyFence(w->device, w->slot[i].fence, NULL);
            if (w->slot[i].acquired) w->vkDestroySemaphore(w->device, w->slot[i].acquired, NULL);
        }
        if (w->pool) w->vkDestroyCommandPool(w->device, w->pool, NULL);
        w->vkDestroyDevice(w->device, NULL);
    }
    if (w->surface) w->vkDestroySurfaceKHR(w->instance, w->surface, NULL);
    if (w->messenger) w->destroy_messenger(w->instance, w->messenger, NULL);
    if (w->instance) w->vkDestroyInstance(w->instance, NULL);
    if (w->window) glfwDestroyWindow(w->window);
    if (w->glfw_up) glfwTerminate();
    free(w);
}
