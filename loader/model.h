/* Loader internals shared with the fuzzers. */
#ifndef MVK_LOADER_MODEL_H
#define MVK_LOADER_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "mimovk.h"

/* Validates a model file held in memory as far as it can without a device: container, graph
 * JSON, node attributes and the tensors they use. */
mvk_status mvk_model_check_bytes(const uint8_t *bytes, size_t size, char *err, size_t errsz);

/* mvk_model_preprocess on a bare input description (channels, size, mean, std, polarity). */
mvk_status mvk_preprocess_image(const mvk_model_info *info, const uint8_t *pixels, int w, int h, int c,
                                int invert, float *out);

#endif
