/* libFuzzer: the .npy reader. */
#include "io.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    mvk_array a;
    char err[256];
    if (mvk_npy_parse(data, size, &a, err, sizeof err) == MVK_OK) mvk_array_free(&a);
    return 0;
}
