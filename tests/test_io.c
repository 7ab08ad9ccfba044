/* Host-side readers: .npy, IDX and images, including the malformed inputs the fuzzers found. */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "io.h"

#include <stb_image_write.h>

/* An in-memory file for stbi_write_*_to_func. */
typedef struct {
    uint8_t b[1 << 16];
    size_t n;
} membuf;

/* Reads a file of the image fuzz corpus (tests/fuzz/corpus/image) into memory. */
static void read_seed(const char *name, uint8_t **bytes, size_t *size) {
    const char *src = getenv("MIMOVK_SOURCE_DIR");
    char path[1024], err[256];
    snprintf(path, sizeof path, "%s/tests/fuzz/corpus/image/%s", src ? src : ".", name);
    assert_int_equal(mvk_file_read(path, bytes, size, err, sizeof err), MVK_OK);
}

static void test_npy_roundtrip(void **s) {
    (void)s;
    char path[64], err[256];
    snprintf(path, sizeof path, "/tmp/mvk-io-%ld.npy", (long)getpid());
    float data[2 * 3 * 5];
    for (int i = 0; i < 30; i++) data[i] = (float)i * 0.5f - 3;
    int64_t shape[3] = {2, 3, 5};
    assert_int_equal(mvk_npy_write(path, data, 3, shape, err, sizeof err), MVK_OK);
    mvk_array a;
    assert_int_equal(mvk_npy_read(path, &a, err, sizeof err), MVK_OK);
    assert_int_equal(a.ndim, 3);
    assert_int_equal(a.shape[2], 5);
    assert_memory_equal(a.data, data, sizeof data);
    mvk_array_free(&a);
    remove(path);
    /* A write into a directory that does not exist fails and leaves nothing behind. */
    assert_int_equal(mvk_npy_write("/nonexistent/dir/x.npy", data, 3, shape, err, sizeof err), MVK_ERR_IO);
}

static void test_npy_malformed(void **s) {
    (void)s;
    static const struct {
        const char *bytes;
        size_t len;
        const char *needle;
    } bad[] = {
        {"NOTNUMPY", 8, "magic"},
        {"\x93NUMPY\x01\x00\x40\x00{'descr': '<f4'", 25, "truncated"},
        {"\x93NUMPY\x01\x00\x3a\x00{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }   \n", 68, "dtype"},
        {"\x93NUMPY\x01\x00\x3a\x00{'descr': '<f4', 'fortran_order': True, 'shape': (1,), }    \n", 68, "Fortran"},
        {"\x93NUMPY\x01\x00\x3a\x00{'descr': '<f4', 'fortran_order': False, 'shape': (9,), }   \n", 68, "truncated"},
        {"\x93NUMPY\x01\x00\x3a\x00{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }  \n", 68, "dimension"},
        {"\x93NUMPY\x09\x00\x3a\x00", 10, "version"},
    };
    for (size_t i = 0; i < MVK_ARRAY_LEN(bad); i++) {
        mvk_array a;
        char err[256] = "";
        mvk_status st = mvk_npy_parse((const uint8_t *)bad[i].bytes, bad[i].len, &a, err, sizeof err);
        if (st != MVK_ERR_FORMAT || !strstr(err, bad[i].needle))
            fail_msg("case %zu: %s \"%s\", want format error with \"%s\"", i, mvk_status_str(st), err, bad[i].needle);
    }
}

static void test_idx(void **s) {
    (void)s;
    const uint8_t ok[] = {0, 0, 8, 1, 0, 0, 0, 3, 7, 8, 9};
    mvk_idx x;
    char err[256];
    assert_int_equal(mvk_idx_parse(ok, sizeof ok, &x, err, sizeof err), MVK_OK);
    assert_int_equal(x.shape[0], 3);
    assert_int_equal(x.data[2], 9);
    mvk_idx_free(&x);
    const uint8_t shortdata[] = {0, 0, 8, 1, 0, 0, 0, 5, 7};
    assert_int_equal(mvk_idx_parse(shortdata, sizeof shortdata, &x, err, sizeof err), MVK_ERR_FORMAT);
    assert_non_null(strstr(err, "truncated"));
    const uint8_t floats[] = {0, 0, 0x0d, 1, 0, 0, 0, 1, 0, 0, 0, 0};
    assert_int_equal(mvk_idx_parse(floats, sizeof floats, &x, err, sizeof err), MVK_ERR_FORMAT);
    assert_non_null(strstr(err, "unsigned byte"));
    const uint8_t huge[] = {0, 0, 8, 3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    assert_int_equal(mvk_idx_parse(huge, sizeof huge, &x, err, sizeof err), MVK_ERR_FORMAT);
    /* The real data set, gzip-compressed. */
    if (access("/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz", R_OK) == 0) {
        assert_int_equal(mvk_idx_read("/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz", &x, err, sizeof err),
                         MVK_OK);
        assert_int_equal(x.shape[0], 10000);
        assert_int_equal(x.data[0], 9); /* the first test item is an ankle boot */
        mvk_idx_free(&x);
    }
}

/* stb_image 2.27 overflows a 257-entry table when a JPEG Huffman table has more than 256
 * codes; mvk_image_decode must refuse such a file before stb sees it (found by fuzz_image). */
static void test_jpeg_huffman_guard(void **s) {
    (void)s;
    uint8_t jpg[64] = {0xff, 0xd8, 0xff, 0xc4, 0x00, 0x13, 0x00};
    for (int k = 0; k < 16; k++) jpg[7 + k] = 0x20; /* 16 * 32 = 512 codes */
    jpg[23] = 0xff;
    jpg[24] = 0xd9;
    mvk_image im;
    char err[256];
    assert_int_equal(mvk_image_decode(jpg, sizeof jpg, 1, &im, err, sizeof err), MVK_ERR_FORMAT);
    assert_non_null(strstr(err, "256"));
    /* The same with fill bytes before SOI and the table header cut by the end of the data. */
    uint8_t cut[] = {0xff, 0xff, 0xd8, 0xff, 0xc4, 0x00, 0x40, 0x00, 0xff, 0xff, 0x10};
    assert_int_equal(mvk_image_decode(cut, sizeof cut, 1, &im, err, sizeof err), MVK_ERR_FORMAT);
    assert_non_null(strstr(err, "256"));
    /* A real PNG decodes. */
    uint8_t *bytes;
    size_t size;
    read_seed("gray28.png", &bytes, &size);
    assert_int_equal(mvk_image_decode(bytes, size, 1, &im, err, sizeof err), MVK_OK);
    assert_int_equal(im.w, 28);
    assert_int_equal(im.c, 1);
    mvk_image_free(&im);
    mvk_file_free(bytes);
    assert_int_equal(mvk_image_decode((const uint8_t *)"GIF8", 4, 1, &im, err, sizeof err), MVK_ERR_FORMAT);
}

/* A tiny BMP or PNM declaring many pixels must be refused before stb allocates for them (a 2.4 KB
 * BMP of 65564 x 2560 pixels took 500 MB and seconds to decode; found by fuzz_image). */
static void test_image_size_guards(void **s) {
    (void)s;
    uint8_t bmp[256] = {'B', 'M'};
    bmp[10] = 54;                         /* pixel data offset */
    bmp[14] = 40;                         /* BITMAPINFOHEADER */
    bmp[18] = 0x1c, bmp[19] = 0x00, bmp[20] = 0x01; /* width 65564 */
    bmp[22] = 0x00, bmp[23] = 0x0a;       /* height 2560 */
    bmp[26] = 1;                          /* planes */
    bmp[28] = 24;                         /* bits per pixel, BI_RGB */
    mvk_image im;
    char err[256];
    assert_int_equal(mvk_image_decode(bmp, sizeof bmp, 1, &im, err, sizeof err), MVK_ERR_FORMAT);
    assert_non_null(strstr(err, "too large"));
    bmp[20] = 0x00, bmp[18] = 200, bmp[22] = 100, bmp[23] = 0; /* 200 x 100: 60 KB of pixels */
    assert_int_equal(mvk_image_decode(bmp, sizeof bmp, 1, &im, err, sizeof err), MVK_ERR_FORMAT);
    assert_non_null(strstr(err, "truncated BMP"));
    const char pgm[] = "P5\n4000 3000\n255\n\x01\x02\x03";
    assert_int_equal(mvk_image_decode((const uint8_t *)pgm, sizeof pgm - 1, 1, &im, err, sizeof err), MVK_ERR_FORMAT);
    assert_non_null(strstr(err, "truncated PNM"));
    /* Complete files of both kinds still decode. */
    bmp[18] = 2, bmp[22] = 2;             /* 2 x 2, rows of 8 bytes */
    assert_int_equal(mvk_image_decode(bmp, 54 + 16, 1, &im, err, sizeof err), MVK_OK);
    assert_true(im.w == 2 && im.h == 2);
    mvk_image_free(&im);
    const char pgm2[] = "P5\n2 2\n255\n\x01\x02\x03\x04";
    assert_int_equal(mvk_image_decode((const uint8_t *)pgm2, sizeof pgm2 - 1, 1, &im, err, sizeof err), MVK_OK);
    assert_true(im.w == 2 && im.h == 2 && im.pixels[3] == 4);
    mvk_image_free(&im);
}

static void append(void *ctx, void *data, int size) {
    membuf *f = ctx;
    if (f->n + (size_t)size <= sizeof f->b) memcpy(f->b + f->n, data, (size_t)size);
    f->n += (size_t)size;
}

/* A JPEG holds at least one bit per 8 x 8 block: one declaring far more pixels than its bytes can
 * code is truncated and refused, while a legitimately tiny one (a flat 1024 x 1024 image in
 * 17 KB, 8 times the bound) still decodes. */
static void test_jpeg_truncation_guard(void **s) {
    (void)s;
    char err[256];
    uint8_t *bytes;
    size_t size;
    read_seed("gray28.jpg", &bytes, &size);
    mvk_image im;
    assert_int_equal(mvk_image_decode(bytes, size, 1, &im, err, sizeof err), MVK_OK);
    mvk_image_free(&im);
    size_t sof = 2;
    while (sof + 9 < size && !(bytes[sof] == 0xff && bytes[sof + 1] == 0xc0)) sof++;
    assert_true(sof + 9 < size);
    bytes[sof + 5] = 0x10, bytes[sof + 6] = 0x00; /* height 4096 */
    bytes[sof + 7] = 0x10, bytes[sof + 8] = 0x00; /* width 4096 */
    assert_int_equal(mvk_image_decode(bytes, size, 1, &im, err, sizeof err), MVK_ERR_FORMAT);
    assert_non_null(strstr(err, "truncated JPEG"));
    assert_non_null(strstr(err, "4096 x 4096"));
    mvk_file_free(bytes);

    static membuf f;
    enum { W = 1024 };
    uint8_t *flat = malloc(W * W);
    assert_non_null(flat);
    memset(flat, 77, W * W);
    assert_true(stbi_write_jpg_to_func(append, &f, W, W, 1, flat, 90));
    free(flat);
    print_message("flat %d x %d JPEG: %zu bytes\n", W, W, f.n);
    assert_true(f.n <= sizeof f.b && f.n < W * W / 32);
    assert_int_equal(mvk_image_decode(f.b, f.n, 1, &im, err, sizeof err), MVK_OK);
    assert_true(im.w == W && im.h == W && abs(im.pixels[W * W / 2 + 3] - 77) <= 2);
    mvk_image_free(&im);
}

/* Inputs the fuzzer found in stb_image 2.27 itself, kept as seeds of fuzz_image: a JPEG whose
 * entropy-coded data runs out mid-block (the unpatched bit reader shifted by 33: undefined
 * behaviour, which the sanitizer build of this test turns into a failure), and three small files
 * declaring huge images that stb decoded as zeros for seconds: a BMP, a BMP with a compression
 * value stb reads as raw, and a 20-byte TGA (a format no longer compiled in); and a 61-byte PNG
 * whose IDAT chunk declares 1.2 GB, for which stb allocated 2 GB; and a PPM whose width has 113
 * digits (stb's header parser overflowed int: undefined behaviour); and a 29-byte BMP whose
 * header stops short of its bit depth, with a top-down height of 16777204 rows; and a BMP of
 * 16 M rows of width 0. */
static void test_image_fuzz_regressions(void **s) {
    (void)s;
    const struct { const char *name, *why; } cases[] = {
        {"regress-jpeg-out-of-bits.jpg", NULL},
        {"regress-bmp-huge.bmp", "too large"},
        {"regress-bmp-odd-compression.bmp", "truncated BMP"},
        {"regress-tga-huge.tga", "cannot decode"},
        {"regress-png-huge-chunk.png", "runs past the end"},
        {"regress-pnm-int-overflow.ppm", "too large"},
        {"regress-bmp-short-header.bmp", "too large"},
        {"regress-bmp-zero-width.bmp", "is empty"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char err[256];
        uint8_t *bytes;
        size_t size;
        read_seed(cases[i].name, &bytes, &size);
        mvk_image im;
        mvk_status st = mvk_image_decode(bytes, size, 1, &im, err, sizeof err);
        if (st == MVK_OK) mvk_image_free(&im);
        else assert_int_equal(st, MVK_ERR_FORMAT);
        if (cases[i].why) {
            assert_int_equal(st, MVK_ERR_FORMAT);
            if (!strstr(err, cases[i].why)) fail_msg("%s: \"%s\", expected \"%s\"", cases[i].name, err, cases[i].why);
        }
        mvk_file_free(bytes);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_npy_roundtrip),
        cmocka_unit_test(test_npy_malformed),
        cmocka_unit_test(test_idx),
        cmocka_unit_test(test_jpeg_huffman_guard),
        cmocka_unit_test(test_image_size_guards),
        cmocka_unit_test(test_jpeg_truncation_guard),
        cmocka_unit_test(test_image_fuzz_regressions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
