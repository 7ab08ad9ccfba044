/* libFuzzer: image decoding (stb_image) and the conversion to a model's input. */
#include <stdlib.h>

/* The decoder is the library's patched stb_image (third_party/stb_image_impl.c), built into
 * mvk_fuzz_readers with the fuzzer's instrumentation. */
#include "io.h"
#include "model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > (1 << 20)) return 0;
    mvk_image img;
    char err[256];
    if (mvk_image_decode(data, size, 0, &img, err, sizeof err) != MVK_OK) return 0;
    int w = img.w, h = img.h, c = img.c;
    unsigned char *px = img.pixels;
    /* Keep the fuzzer fast: the conversion is linear in the pixel count. */
    if ((long)w * h <= 1 << 20 && (c == 1 || c == 3 || c == 4)) {
        static const mvk_model_info gray = {.channels = 1, .height = 28, .width = 28, .mean = {0.286f},
                                            .std = {0.353f}, .light_on_dark = 1};
        static const mvk_model_info rgb = {.channels = 3, .height = 32, .width = 32, .mean = {0.5f, 0.5f, 0.5f},
                                           .std = {0.25f, 0.25f, 0.25f}};
        static float out[3 * 32 * 32];
        mvk_preprocess_image(&gray, px, w, h, c, -1, out);
        mvk_preprocess_image(&rgb, px, w, h, c, 0, out);
    }
    mvk_image_free(&img);
    return 0;
}
