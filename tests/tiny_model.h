/* A tiny MIMOConv-shaped model written byte by byte (and broken on purpose), with a plain-C
 * forward pass: the loader, reliability and fuzz-seed tests share it. */
#ifndef MVK_TEST_TINY_MODEL_H
#define MVK_TEST_TINY_MODEL_H

typedef enum {
    V_OK, V_EMPTY, V_TRUNCATED, V_LYING_HLEN, V_BAD_JSON, V_NOT_MIMOVK, V_BAD_GRAPH_JSON, V_UNKNOWN_OP,
    V_MISSING_TENSOR, V_UNKNOWN_INPUT, V_WRONG_SHAPE, V_WRONG_DTYPE, V_UNKNOWN_DTYPE, V_OFFSET_PAST_END,
    V_OVERLAP, V_SIZE_MISMATCH, V_ABSURD_DIMS, V_MISSING_SUPERPOSE_N, V_BAD_CAPACITY, V_COUNT
} tiny_variant;

/* Input 1x4x4, capacity 2, 3 classes. */
enum { TINY_PIXELS = 16, TINY_CLASSES = 3, TINY_CAPACITY = 2 };

/* Random weights from a fixed seed (call once before the others). */
void tiny_init(void);
/* Writes the model, or a broken variant of it, to path. */
void tiny_write(const char *path, tiny_variant v);
/* Logits of `count` images at n per superposition (count % n == 0), in plain C. */
void tiny_reference(const float *x, int count, int n, float *logits);

#endif
