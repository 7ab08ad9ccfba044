/* stb_image, compiled from the patched build-tree copy of Debian's header
 * (third_party/patch_stb_image.cmake), not taken from Debian's libstb: loader/image.c decodes
 * untrusted files with it. Third-party code, built without the project's warnings. */
#define STB_IMAGE_IMPLEMENTATION
#define STBI_NO_STDIO
/* Only the formats mimovk reads, each guarded in loader/image.c. TGA, GIF, PSD, HDR and PIC are
 * left out: stb decodes a truncated file of those as zeros up to the size it declares, so a
 * 20-byte TGA declaring 6145 x 3855 pixels decoded for seconds (found by fuzz_image). */
#define STBI_ONLY_JPEG
#define STBI_ONLY_PNG
#define STBI_ONLY_BMP
#define STBI_ONLY_PNM
#include "stb_image.h"
