/* Readers and writers of the data files the command line and the tests exchange: NumPy .npy
 * (float32, C order) and IDX (MNIST/Fashion-MNIST, gzip or plain). Every header field is
 * checked; a malformed file gives MVK_ERR_FORMAT with the reason in *err. Files are written to a
 * temporary name and renamed, so a failed write never leaves a half-written file. */
#ifndef MVK_IO_H
#define MVK_IO_H

#include <stddef.h>
#include <stdint.h>

#include "mimovk.h"

typedef struct mvk_array {
    int ndim;
    int64_t shape[8];
    float *data; /* mvk_array_free releases it */
} mvk_array;

/* Parses a .npy held in memory: dtype <f4 (float32) or |u1 (uint8, converted), C order. */
mvk_status mvk_npy_parse(const uint8_t *bytes, size_t size, mvk_array *out, char *err, size_t errsz);
mvk_status mvk_npy_read(const char *path, mvk_array *out, char *err, size_t errsz);
mvk_status mvk_npy_write(const char *path, const float *data, int ndim, const int64_t *shape, char *err,
                         size_t errsz);

typedef struct mvk_idx {
    int ndim;
    int64_t shape[4]; /* images: (count, rows, cols); labels: (count) */
    uint8_t *data;
} mvk_idx;

/* Parses IDX bytes (already decompressed): unsigned-byte data only. */
mvk_status mvk_idx_parse(const uint8_t *bytes, size_t size, mvk_idx *out, char *err, size_t errsz);
/* Reads an IDX file, gzip-compressed or plain. */
mvk_status mvk_idx_read(const char *path, mvk_idx *out, char *err, size_t errsz);

/* Reads a whole file; free *buf with mvk_file_free. */
mvk_status mvk_file_read(const char *path, uint8_t **buf, size_t *size, char *err, size_t errsz);
void mvk_file_free(uint8_t *buf);

typedef struct mvk_image {
    uint8_t *pixels; /* h rows of w pixels of c interleaved 8-bit channels */
    int w, h, c;
} mvk_image;

/* Decodes PNG, JPEG, BMP, ... (stb_image) into 8-bit pixels with `want` channels (0: as stored). */
mvk_status mvk_image_decode(const uint8_t *bytes, size_t size, int want, mvk_image *out, char *err,
                            size_t errsz);
void mvk_image_free(mvk_image *img);

void mvk_array_free(mvk_array *a);
void mvk_idx_free(mvk_idx *x);

#endif
