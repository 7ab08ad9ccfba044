/* SOFTMAX over the last axis against the C (double) reference on both kernel classes: rows of
 * length 1, 3, 10, 12 (vec4), 1000 and 100003, ranks 1 to 4, and inputs large enough that exp
 * overflows without the max subtraction. */
#include "harness.h"

#include <stdlib.h>

/* exp() in Vulkan is accurate to 3 + 2|x| ulp; with x - max in [-2, 0] that is ~7 ulp of
 * values <= 1, plus a few ulp from the fp32 sum of up to 1e5 terms: 1e-5 relative; atol 1e-7
 * for the tiny values of long rows. */
#define ATOL 1e-7
#define RTOL 1e-5

static void check(int ndim, int64_t a, int64_t b, int64_t c, int64_t d) {
    mt_src src[MVK_MAX_SRC] = {0};
    src[0] = mt_shape(ndim, a, b, c, d);
    mt_check_op(MVK_OP_SOFTMAX, src, NULL, ATOL, RTOL);
}

static void test_shapes(void **s) {
    (void)s;
    check(1, 1, 1, 1, 1);      /* a single value: 1 */
    check(2, 7, 1, 1, 1);      /* rows of length 1 */
    check(2, 5, 3, 1, 1);      /* length 3 */
    check(3, 2, 3, 10, 1);     /* rank 3, length 10 */
    check(4, 2, 2, 3, 12);     /* rank 4, vec4 path */
    check(2, 130, 10, 1, 1);   /* many rows (CPU workgroups of 8) */
    check(2, 3, 1000, 1, 1);   /* length 1000 */
    check(2, 2, 100003, 1, 1); /* long rows: workgroup-per-row kernel on both classes */
}

static void test_large_inputs(void **s) {
    (void)s;
    /* Values in [60, 100]: exp(100) = 2.7e43 overflows fp32, so only the stable form works. */
    for (int len = 3; len <= 12; len += 9) {
        size_t count = (size_t)(4 * len);
        float *x = mt_random(count, 60.0f, 100.0f);
        mt_src src[MVK_MAX_SRC] = {0};
        src[0] = mt_shape(2, 4, len, 1, 1);
        src[0].data = x;
        /* exp of differences up to 40 keeps the Vulkan bound of 3 + 2|x| ulp: ~1e-5 relative. */
        mt_check_op(MVK_OP_SOFTMAX, src, NULL, 1e-7, 2e-5);
        free(x);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shapes),
        cmocka_unit_test(test_large_inputs),
    };
    return cmocka_run_group_tests(tests, mt_setup, mt_teardown);
}
