# Finds the Debian bookworm packages mimovk builds against. A missing one stops configure with
# the name of the package to install (tools/setup.sh installs them all).
include(FindPkgConfig)

function(mvk_missing what pkg)
  message(FATAL_ERROR "mimovk: ${what} not found. Install the Debian package '${pkg}' "
                      "(or run: sudo tools/setup.sh)")
endfunction()

find_path(VULKAN_INCLUDE_DIR vulkan/vulkan.h)
if(NOT VULKAN_INCLUDE_DIR)
  mvk_missing("Vulkan headers" libvulkan-dev)
endif()
find_path(VOLK_INCLUDE_DIR volk.h)
find_file(VOLK_SOURCE volk.c PATHS ${VOLK_INCLUDE_DIR} NO_DEFAULT_PATH)
if(NOT VOLK_INCLUDE_DIR OR NOT VOLK_SOURCE)
  mvk_missing("volk (volk.h, volk.c)" libvulkan-volk-dev)
endif()
find_file(VKFFT_HEADER vkFFT.h)
if(NOT VKFFT_HEADER)
  mvk_missing("VkFFT (vkFFT.h)" libvkfft-dev)
endif()
find_program(GLSLANG_VALIDATOR glslangValidator)
if(NOT GLSLANG_VALIDATOR)
  mvk_missing("glslangValidator" glslang-tools)
endif()
find_package(glslang CONFIG QUIET)
if(NOT glslang_FOUND OR NOT TARGET glslang::glslang-default-resource-limits)
  mvk_missing("glslang libraries" glslang-dev)
endif()
find_package(SPIRV-Tools-opt CONFIG QUIET)
if(NOT SPIRV-Tools-opt_FOUND)
  mvk_missing("SPIRV-Tools" spirv-tools)
endif()
pkg_check_modules(CJSON QUIET libcjson)
if(NOT CJSON_FOUND)
  mvk_missing("cJSON" libcjson-dev)
endif()
find_path(STB_INCLUDE_DIR stb_image.h PATH_SUFFIXES stb)
if(NOT STB_INCLUDE_DIR)
  mvk_missing("stb (stb_image.h)" libstb-dev)
endif()
find_library(STB_LIBRARY stb)
if(NOT STB_LIBRARY)
  mvk_missing("stb library" libstb-dev)
endif()
find_package(ZLIB QUIET)
if(NOT ZLIB_FOUND)
  mvk_missing("zlib" zlib1g-dev)
endif()
find_package(Threads REQUIRED)
find_library(M_LIBRARY m)
if(MIMOVK_TESTS)
  find_package(cmocka CONFIG QUIET)
  if(NOT cmocka_FOUND)
    mvk_missing("cmocka" libcmocka-dev)
  endif()
endif()

# The patched VkFFT header lives in the build tree only.
set(VKFFT_PATCHED_DIR ${CMAKE_BINARY_DIR}/third_party/vkfft)
file(MAKE_DIRECTORY ${VKFFT_PATCHED_DIR})
add_custom_command(
  OUTPUT ${VKFFT_PATCHED_DIR}/vkFFT.h
  COMMAND ${CMAKE_COMMAND} -DIN=${VKFFT_HEADER} -DOUT=${VKFFT_PATCHED_DIR}/vkFFT.h
          -P ${CMAKE_CURRENT_LIST_DIR}/patch_vkfft.cmake
  DEPENDS ${VKFFT_HEADER} ${CMAKE_CURRENT_LIST_DIR}/patch_vkfft.cmake
  COMMENT "Patching a build-tree copy of vkFFT.h for C11 and glslang 12")
add_custom_target(vkfft_header DEPENDS ${VKFFT_PATCHED_DIR}/vkFFT.h)

# stb_image: a build-tree copy of Debian's header with bounds checks in the JPEG bit readers
# (third_party/patch_stb_image.cmake); the library compiles its decoder from it.
set(STB_PATCHED_DIR ${CMAKE_BINARY_DIR}/stb-patched)
add_custom_command(
  OUTPUT ${STB_PATCHED_DIR}/stb_image.h
  COMMAND ${CMAKE_COMMAND} -E make_directory ${STB_PATCHED_DIR}
  COMMAND ${CMAKE_COMMAND} -DIN=${STB_INCLUDE_DIR}/stb_image.h -DOUT=${STB_PATCHED_DIR}/stb_image.h
          -P ${CMAKE_CURRENT_LIST_DIR}/patch_stb_image.cmake
  DEPENDS ${STB_INCLUDE_DIR}/stb_image.h ${CMAKE_CURRENT_LIST_DIR}/patch_stb_image.cmake
  COMMENT "Patching a build-tree copy of stb_image.h (JPEG bit-reader bounds)")
add_custom_target(stb_header DEPENDS ${STB_PATCHED_DIR}/stb_image.h)

# mimovk-cam's window (optional): GLFW. Without it mimovk-cam is built headless only.
pkg_check_modules(GLFW QUIET glfw3)
if(GLFW_FOUND)
  set(MVK_CAM_WINDOW ON)
else()
  set(MVK_CAM_WINDOW OFF)
  message(WARNING "mimovk: GLFW not found (Debian package 'libglfw3-dev'): mimovk-cam is built without its "
                  "window (--headless only) and the window test is skipped. Install it or run: sudo tools/setup.sh")
endif()
# The window test runs the demo under Xvfb and screenshots it: Xvfb (xvfb), xwd (x11-apps),
# xwdtopnm and pnmtopng (netpbm), xdotool (xdotool) for the keys, Xlib (libx11-dev) to close it.
if(MIMOVK_TESTS AND MVK_CAM_WINDOW)
  pkg_check_modules(X11 QUIET x11)
  if(NOT X11_FOUND)
    mvk_missing("Xlib (for the mimovk-cam window test)" libx11-dev)
  endif()
  foreach(tool_pkg Xvfb:xvfb xwd:x11-apps xwdtopnm:netpbm pnmtopng:netpbm xdotool:xdotool)
    string(REPLACE ":" ";" tp ${tool_pkg})
    list(GET tp 0 tool)
    list(GET tp 1 pkg)
    find_program(MVK_TOOL_${tool} ${tool})
    if(NOT MVK_TOOL_${tool})
      mvk_missing("${tool} (for the mimovk-cam window test)" ${pkg})
    endif()
  endforeach()
endif()
