/* STUB: to be replaced by the real implementation. */
#include "internal.h"
#include <stdio.h>
static mvk_status shape(const mvk_graph *g, const mvk_node *n, int *ndim, int64_t ne[4], char *msg, size_t msgsz) {
    (void)g; (void)n; (void)ndim; (void)ne;
    snprintf(msg, msgsz, "not implemented yet");
    return MVK_ERR_UNSUPPORTED;
}
static mvk_status record(mvk_rec *r, const mvk_node *n) { (void)r; (void)n; return MVK_ERR_UNSUPPORTED; }
const mvk_op_impl mvk_op_conv2d = {"conv2d", shape, NULL, record, NULL, NULL};
