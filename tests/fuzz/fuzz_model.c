/* libFuzzer: the model loader's validation of untrusted files (container, graph, attributes). */
#include <stddef.h>
#include <stdint.h>

#include "model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char err[256];
    mvk_model_check_bytes(data, size, err, sizeof err);
    return 0;
}
