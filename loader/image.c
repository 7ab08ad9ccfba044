/* Image decoding through stb_image, behind a guard for a known defect of the bookworm version.
 *
 * stb_image 2.27 (Debian libstb-dev 0.0~git20220908) does not check that the code counts of a
 * JPEG Huffman table (DHT) add up to at most 256 before filling a 257-entry array: a crafted
 * file writes out of bounds (found by tests/fuzz/fuzz_image; upstream 2.28 added the check).
 * We walk the JPEG's marker segments first and refuse such tables ourselves. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <stb_image.h>

#include "internal.h"
#include "io.h"

/* Returns NULL if every DHT table is sane, else the reason. Every FF C4 in the file is taken
 * as a DHT segment, wherever it is: stb finds markers by its own rules (skipping junk between
 * segments), and FF C4 cannot occur inside entropy-coded data (FF is stuffed as FF 00 there), so
 * checking all of them is simpler than mirroring stb's parser and misses none. Like stb, a table
 * counts if its header starts inside the segment, even if it runs past the segment's end or
 * the end of the file. */
static const char *jpeg_check(const uint8_t *b, size_t n) {
    for (size_t i = 0; i + 4 <= n; i++) {
        if (b[i] != 0xff || b[i + 1] != 0xc4) continue;
        size_t len = (size_t)b[i + 2] << 8 | b[i + 3];
        size_t p = i + 4, end = i + 2 + len;
        while (p < end && p < n) {
            unsigned total = 0; /* stb reads zeros past the end of the data */
            for (size_t k = p + 1; k < p + 17 && k < n; k++) total += b[k];
            if (total > 256) return "Huffman table with more than 256 codes";
            p += 17 + total;
        }
    }
    return NULL;
}

/* Returns NULL unless a PNG chunk declares more bytes than the file holds. stb reads chunks in
 * sequence as this does, and grows its IDAT buffer to a chunk's declared length before reading
 * it: a 61-byte PNG declaring a 1.2 GB IDAT made it allocate 2 GB (found by fuzz_image). A
 * complete PNG never has such a chunk. */
static const char *png_check(const uint8_t *b, size_t n, char *why, size_t whysz) {
    static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    if (n < 8 || memcmp(b, sig, sizeof sig)) return NULL;
    for (size_t p = 8; p + 8 <= n;) {
        size_t len = (size_t)b[p] << 24 | (size_t)b[p + 1] << 16 | (size_t)b[p + 2] << 8 | b[p + 3];
        if (len > n - p - 8) {
            snprintf(why, whysz, "a chunk of %zu bytes at offset %zu runs past the end of the file (%zu bytes)", len, p, n);
            return why;
        }
        if (!memcmp(b + p + 4, "IEND", 4)) break;
        p += 12 + len;
    }
    return NULL;
}

/* Little-endian fields read as stb reads them: bytes past the end of the file are zeros. */
static uint32_t rd8(const uint8_t *b, size_t n, size_t i) { return i < n ? b[i] : 0; }
static uint32_t rd16(const uint8_t *b, size_t n, size_t i) { return rd8(b, n, i) | rd8(b, n, i + 1) << 8; }
static uint32_t rd32(const uint8_t *b, size_t n, size_t i) { return rd16(b, n, i) | rd16(b, n, i + 2) << 16; }

/* Returns NULL unless the file is too short for the pixels it declares, else the reason. BMP and
 * binary PNM store pixels uncompressed, and stb reads past the end of a truncated file as zeros:
 * a 2.4 KB BMP declaring 65564 x 2560 pixels made it allocate 500 MB and decode for seconds
 * (found by fuzz_image). A JPEG codes at least one bit per 8 x 8 block of its full-resolution
 * component (the DC difference of a baseline block, or of a progressive DC scan, is a Huffman
 * code of one bit or more; stb decodes no arithmetic coding), so a complete JPEG holds at least
 * one byte per 512 pixels; a shorter one is truncated, and stb would decode all the missing
 * blocks as grey (a 1 KB JPEG declaring 4096 x 4096 pixels became 16 MB; grown fuzz corpora fill up
 * with such files and slow fuzz_image to 30 inputs/s). PNG is bounded by its zlib data (stb fails on
 * a truncated stream) and the pixel limit in mvk_image_decode. stb is built with these four
 * formats only (third_party/stb_image_impl.c). */
static const char *truncated(const uint8_t *b, size_t n, int jpeg, uint64_t w, uint64_t h) {
    if (jpeg && (w + 7) / 8 * ((h + 7) / 8) > 8 * (uint64_t)n) return "truncated JPEG";
    /* Even a header cut short counts: stb reads its missing fields as zeros (a 29-byte BMP
     * declaring 37 x 16777204 pixels decoded until the fuzzer's 10 s timeout). */
    if (n >= 2 && b[0] == 'B' && b[1] == 'M') {
        uint32_t hsz = rd32(b, n, 14);
        uint32_t bpp = hsz == 12 ? rd16(b, n, 24) : rd16(b, n, 28);
        uint64_t row = ((uint64_t)w * bpp + 31) / 32 * 4;
        /* stb refuses RLE BMPs and reads every other compression value as raw pixels (a 67-byte
         * file with compression 3663790081 and 28 x 1048604 pixels was decoded; fuzz_image). */
        if ((uint64_t)h * row > n) return "truncated BMP";
    }
    if (n >= 2 && b[0] == 'P' && (b[1] == '5' || b[1] == '6') &&
        w * h * (b[1] == '6' ? 3 : 1) > n)
        return "truncated PNM";
    return NULL;
}

mvk_status mvk_image_decode(const uint8_t *bytes, size_t size, int want, mvk_image *out, char *err,
                            size_t errsz) {
    memset(out, 0, sizeof *out);
    if (!bytes || size < 4 || size > (1u << 30) || want < 0 || want > 4)
        return snprintf(err, errsz, "not an image"), MVK_ERR_FORMAT;
    /* stb takes a file as JPEG when it starts with FF, any further FF fill bytes, then D8. */
    size_t k = 0;
    while (k < size && bytes[k] == 0xff) k++;
    int jpeg = k >= 1 && k < size && bytes[k] == 0xd8;
    if (jpeg) {
        const char *why = jpeg_check(bytes, size);
        if (why) return snprintf(err, errsz, "corrupt JPEG: %s", why), MVK_ERR_FORMAT;
    }
    char why_png[128];
    const char *why_p = png_check(bytes, size, why_png, sizeof why_png);
    if (why_p) return snprintf(err, errsz, "corrupt PNG: %s", why_p), MVK_ERR_FORMAT;
    int w, h, c;
    /* Refuse absurd sizes before decoding allocates for them: 2^25 pixels is above 8K UHD. A file
     * whose header stb cannot read is refused here too, so no decode runs without these checks. */
    if (!stbi_info_from_memory(bytes, (int)size, &w, &h, &c))
        return snprintf(err, errsz, "cannot decode the image (%s)", stbi_failure_reason()), MVK_ERR_FORMAT;
    /* A BMP's height is negative when its rows run top down; stb reports it as stored. */
    uint64_t aw = (uint64_t)llabs(w), ah = (uint64_t)llabs(h);
    /* stb walks the rows of a BMP even when they are empty: 16 M rows of width 0 took 0.35 s. */
    if (!aw || !ah)
        return snprintf(err, errsz, "image of %llu x %llu pixels is empty", (unsigned long long)aw,
                        (unsigned long long)ah), MVK_ERR_FORMAT;
    if (aw * ah > (1ull << 25))
        return snprintf(err, errsz, "image of %llu x %llu pixels is too large (at most 2^25 pixels)",
                        (unsigned long long)aw, (unsigned long long)ah), MVK_ERR_FORMAT;
    const char *why = truncated(bytes, size, jpeg, aw, ah);
    if (why)
        return snprintf(err, errsz, "%s: it declares %llu x %llu pixels but holds %zu bytes", why,
                        (unsigned long long)aw, (unsigned long long)ah, size), MVK_ERR_FORMAT;
    uint8_t *px = stbi_load_from_memory(bytes, (int)size, &w, &h, &c, want);
    if (!px) return snprintf(err, errsz, "cannot decode the image (%s)", stbi_failure_reason()), MVK_ERR_FORMAT;
    out->pixels = px;
    out->w = w;
    out->h = h;
    out->c = want ? want : c;
    return MVK_OK;
}

void mvk_image_free(mvk_image *img) {
    if (!img) return;
    stbi_image_free(img->pixels);
    memset(img, 0, sizeof *img);
}

void mvk_file_free(uint8_t *buf) { mvk_free(buf); }
