/* libFuzzer: the IDX reader (decompressed bytes; zlib's own decoder is not ours to fuzz). */
#include "io.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    mvk_idx x;
    char err[256];
    if (mvk_idx_parse(data, size, &x, err, sizeof err) == MVK_OK) mvk_idx_free(&x);
    return 0;
}
