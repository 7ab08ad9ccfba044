# Makes a build-tree copy of Debian's vkFFT.h 1.2.26 usable from C11 with bookworm's glslang 12
# (docs: ../shared/design/vulkan-engines.md §5). Three mechanical substitutions:
#  1. `VkCommandBuffer commandBuffer = {};` is an empty scalar initialiser, rejected by C compilers.
#  2. The positional glslang_resource_t initialiser predates glslang 12's fields and leaves the
#     `limits` block zero, so every runtime shader compile fails; use glslang_default_resource().
#  3. Plans that need Bluestein's algorithm write their descriptor sets before the Bluestein
#     buffers exist, i.e. with VK_NULL_HANDLE (validation error VUID-VkDescriptorBufferInfo-
#     buffer-02998); skip writes of a null buffer. engine/fft.c then has VkFFTAppend rewrite the
#     sets once the buffers exist (a launch-time buffer pointer forces the rewrite).
# Usage: cmake -DIN=/usr/include/vkFFT.h -DOUT=<dir>/vkFFT.h -P patch_vkfft.cmake
file(READ "${IN}" src)
string(LENGTH "${src}" before)
string(REPLACE "VkCommandBuffer commandBuffer = {};" "VkCommandBuffer commandBuffer = VK_NULL_HANDLE;"
       src "${src}")
string(REGEX REPLACE "const glslang_resource_t default_resource = {[^;]*} };"
       "const glslang_resource_t default_resource = *glslang_default_resource();" src "${src}")
string(REPLACE "vkUpdateDescriptorSets(app->configuration.device[0], 1, &writeDescriptorSet, 0, 0);"
       "if (descriptorBufferInfo.buffer != VK_NULL_HANDLE) vkUpdateDescriptorSets(app->configuration.device[0], 1, &writeDescriptorSet, 0, 0);"
       src "${src}")
string(REPLACE "#include <glslang/Include/glslang_c_interface.h>"
       "#include <glslang/Include/glslang_c_interface.h>\n#include <glslang/Public/resource_limits_c.h>"
       src "${src}")
string(FIND "${src}" "commandBuffer = {};" bad1)
string(FIND "${src}" "/* .MaxLights = */" bad2)
string(FIND "${src}" "resource_limits_c.h" good)
string(REGEX MATCHALL "[^ ]vkUpdateDescriptorSets\\(" unguarded "${src}")
string(FIND "${src}" "VK_NULL_HANDLE) vkUpdateDescriptorSets" guarded)
if(NOT bad1 EQUAL -1 OR NOT bad2 EQUAL -1 OR good EQUAL -1 OR unguarded OR guarded EQUAL -1)
  message(FATAL_ERROR "patch_vkfft: ${IN} is not the vkFFT.h 1.2.26 this patch expects "
                      "(Debian libvkfft-dev 1.2.26+ds1-1)")
endif()
file(WRITE "${OUT}.tmp" "${src}")
file(RENAME "${OUT}.tmp" "${OUT}")
