/* Shared test helpers: Vulkan contexts with validation on (any validation message fails the
 * test), seeded random data, and an op checker that runs an op on the device with every kernel
 * class and compares it with the op's plain-C reference. */
#ifndef MVK_TEST_HARNESS_H
#define MVK_TEST_HARNESS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "internal.h"

/* cmocka group setup/teardown: create the contexts (one per kernel class) or skip the group
 * when this machine has no Vulkan device; under CI=true a missing device fails instead. */
int mt_setup(void **state);
int mt_teardown(void **state);
/* Context parameters with validation on and messages counted (for tests' own contexts). */
mvk_ctx_params mt_ctx_params(int kernels);
/* The context of kernel class k (MVK_KERNELS_GPU or MVK_KERNELS_CPU). */
mvk_ctx *mt_ctx(int k);
/* Validation messages seen since the process started. */
int mt_validation_messages(void);

uint64_t mt_seed(uint64_t s);
float mt_uniform(float lo, float hi);
/* n floats uniform in [lo, hi]; the caller frees. */
float *mt_random(size_t n, float lo, float hi);

typedef struct mt_src {
    int ndim;          /* 0: slot unused */
    int64_t ne[4];
    const float *data; /* NULL: uniform in [-1, 1] */
} mt_src;

/* Runs op on both kernel classes and checks |gpu - ref| <= atol + rtol * |ref| everywhere.
 * Returns the largest absolute difference seen. */
double mt_check_op(mvk_op op, const mt_src src[MVK_MAX_SRC], const mvk_op_params *p, double atol,
                   double rtol);

/* Shorthand for a source of shape (a, b, c, d) with ndim dimensions. */
mt_src mt_shape(int ndim, int64_t a, int64_t b, int64_t c, int64_t d);

#endif
