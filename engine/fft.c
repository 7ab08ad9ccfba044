/* STUB: the VkFFT binding, to be written. */
#include "internal.h"
mvk_status mvk_fft_create(mvk_ctx *ctx, uint32_t d, uint64_t batches, mvk_binding real,
                          mvk_binding cplx, mvk_fft **out) {
    (void)d; (void)batches; (void)real; (void)cplx; (void)out;
    return mvk_fail(ctx, MVK_ERR_UNSUPPORTED, "fft not implemented yet");
}
mvk_status mvk_fft_record(mvk_fft *f, VkCommandBuffer cb, int dir) { (void)f; (void)cb; (void)dir; return MVK_ERR_UNSUPPORTED; }
void mvk_fft_destroy(void *f) { (void)f; }
