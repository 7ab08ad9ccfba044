/* stb_image, compiled from the patched build-tree copy of Debian's header
 * (third_party/patch_stb_image.cmake), not taken from Debian's libstb: loader/image.c decodes
 * untrusted files with it. Third-party code, built without the project's warnings. */
#define STB_IMAGE_IMPLEMENTATION
#define STBI_NO_STDIO
#include "stb_image.h"
