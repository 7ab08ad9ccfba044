/* Pixel conversion: camera and video formats to RGBA, RGBA to the luma classify uses, MJPEG. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cam.h"
#include "io.h"

bool cam_frame_reserve(cam_frame *f, int w, int h) {
    size_t need = (size_t)w * (size_t)h * 4;
    if (w < 1 || h < 1) return false;
    if (need > f->cap) {
        uint8_t *p = realloc(f->rgba, need);
        if (!p) return false;
        f->rgba = p;
        f->cap = need;
    }
    f->w = w;
    f->h = h;
    return true;
}

void cam_frame_free(cam_frame *f) {
    free(f->rgba);
    memset(f, 0, sizeof *f);
}

bool cam_frame_copy(cam_frame *dst, const cam_frame *src) {
    if (!cam_frame_reserve(dst, src->w, src->h)) return false;
    memcpy(dst->rgba, src->rgba, (size_t)src->w * src->h * 4);
    dst->index = src->index;
    dst->t_capture = src->t_capture;
    memcpy(dst->name, src->name, sizeof dst->name);
    return true;
}

static inline uint8_t clamp8(int v) { return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v); }

/* BT.601 in 16.16 fixed point. Full range: R = Y + 1.402 V', G = Y - 0.344136 U' - 0.714136 V',
 * B = Y + 1.772 U'. Limited range: Y' = 1.164383 (Y - 16), chroma scaled by 255/224. */
static inline void yuv_px(int y, int u, int v, bool full, uint8_t *o) {
    int d = u - 128, e = v - 128, c;
    if (full) {
        c = y << 16;
        o[0] = clamp8((c + 91881 * e + 32768) >> 16);
        o[1] = clamp8((c - 22554 * d - 46802 * e + 32768) >> 16);
        o[2] = clamp8((c + 116130 * d + 32768) >> 16);
    } else {
        c = 76309 * (y - 16);
        o[0] = clamp8((c + 104597 * e + 32768) >> 16);
        o[1] = clamp8((c - 25675 * d - 53279 * e + 32768) >> 16);
        o[2] = clamp8((c + 132201 * d + 32768) >> 16);
    }
    o[3] = 255;
}

void cam_yuyv_to_rgba(const uint8_t *src, int w, int h, size_t stride, bool full, uint8_t *rgba) {
    for (int y = 0; y < h; y++) {
        const uint8_t *s = src + (size_t)y * stride;
        uint8_t *o = rgba + (size_t)y * w * 4;
        for (int x = 0; x < w; x++) {
            /* Each 4 bytes Y0 U Y1 V cover two pixels. */
            const uint8_t *q = s + (size_t)(x & ~1) * 2;
            yuv_px(s[(size_t)x * 2], q[1], q[3], full, o + (size_t)x * 4);
        }
    }
}

void cam_yuv_planar_to_rgba(const uint8_t *y, const uint8_t *u, const uint8_t *v, int w, int h, int sx, int sy,
                            bool full, uint8_t *rgba) {
    int cw = (w + sx - 1) / sx;
    for (int r = 0; r < h; r++)
        for (int x = 0; x < w; x++) {
            uint8_t *o = rgba + ((size_t)r * w + x) * 4;
            int Y = y[(size_t)r * w + x];
            if (!u || !v) {
                uint8_t g = full ? (uint8_t)Y : clamp8((76309 * (Y - 16) + 32768) >> 16);
                o[0] = o[1] = o[2] = g;
                o[3] = 255;
                continue;
            }
            size_t ci = (size_t)(r / sy) * cw + x / sx;
            yuv_px(Y, u[ci], v[ci], full, o);
        }
}

void cam_rgba_to_gray(const uint8_t *rgba, int w, int h, uint8_t *gray) {
    size_t n = (size_t)w * h;
    for (size_t i = 0; i < n; i++) {
        const uint8_t *p = rgba + i * 4;
        gray[i] = (uint8_t)((p[0] * 77 + p[1] * 150 + p[2] * 29) >> 8);
    }
}

/* The Huffman tables of JPEG Annex K.3 (tables K.3 to K.6): for each, the count of codes of
 * each length 1..16, then the symbols. A DHT segment with all four, as Motion-JPEG (AVI1) frames
 * assume when they carry none. */
static const uint8_t dc_lum_bits[16] = {0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0};
static const uint8_t dc_chr_bits[16] = {0, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0};
static const uint8_t dc_vals[12] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
static const uint8_t ac_lum_bits[16] = {0, 2, 1, 3, 3, 2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 0x7d};
static const uint8_t ac_lum_vals[162] = {
    0x01, 0x02, 0x03, 0x00, 0x04, 0x11, 0x05, 0x12, 0x21, 0x31, 0x41, 0x06, 0x13, 0x51, 0x61, 0x07, 0x22, 0x71,
    0x14, 0x32, 0x81, 0x91, 0xa1, 0x08, 0x23, 0x42, 0xb1, 0xc1, 0x15, 0x52, 0xd1, 0xf0, 0x24, 0x33, 0x62, 0x72,
    0x82, 0x09, 0x0a, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2a, 0x34, 0x35, 0x36, 0x37,
    0x38, 0x39, 0x3a, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49, 0x4a, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59,
    0x5a, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x83,
    0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0xa2, 0xa3,
    0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xc2, 0xc3,
    0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda, 0xe1, 0xe2,
    0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0xea, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfa};
static const uint8_t ac_chr_bits[16] = {0, 2, 1, 2, 4, 4, 3, 4, 7, 5, 4, 4, 0, 1, 2, 0x77};
static const uint8_t ac_chr_vals[162] = {
    0x00, 0x01, 0x02, 0x03, 0x11, 0x04, 0x05, 0x21, 0x31, 0x06, 0x12, 0x41, 0x51, 0x07, 0x61, 0x71, 0x13, 0x22,
    0x32, 0x81, 0x08, 0x14, 0x42, 0x91, 0xa1, 0xb1, 0xc1, 0x09, 0x23, 0x33, 0x52, 0xf0, 0x15, 0x62, 0x72, 0xd1,
    0x0a, 0x16, 0x24, 0x34, 0xe1, 0x25, 0xf1, 0x17, 0x18, 0x19, 0x1a, 0x26, 0x27, 0x28, 0x29, 0x2a, 0x35, 0x36,
    0x37, 0x38, 0x39, 0x3a, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49, 0x4a, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58,
    0x59, 0x5a, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a,
    0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a,
    0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba,
    0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda,
    0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0xea, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfa};

/* Writes the DHT segment into out (room for 432 bytes); returns its size. */
static size_t standard_dht(uint8_t *out) {
    const struct { uint8_t id; const uint8_t *bits, *vals; size_t nv; } t[4] = {
        {0x00, dc_lum_bits, dc_vals, 12}, {0x10, ac_lum_bits, ac_lum_vals, 162},
        {0x01, dc_chr_bits, dc_vals, 12}, {0x11, ac_chr_bits, ac_chr_vals, 162}};
    size_t k = 4;
    for (int i = 0; i < 4; i++) {
        out[k++] = t[i].id;
        memcpy(out + k, t[i].bits, 16), k += 16;
        memcpy(out + k, t[i].vals, t[i].nv), k += t[i].nv;
    }
    out[0] = 0xff, out[1] = 0xc4, out[2] = (uint8_t)((k - 2) >> 8), out[3] = (uint8_t)(k - 2);
    return k;
}

/* True when a DHT segment comes before the first SOS (walking the marker segments). */
static bool has_dht(const uint8_t *b, size_t n) {
    size_t i = 2;
    while (i + 4 <= n) {
        if (b[i] != 0xff) return false; /* not a marker where one must be: let the decoder judge */
        uint8_t m = b[i + 1];
        if (m == 0xff) { i++; continue; } /* fill byte */
        if (m == 0xc4) return true;
        if (m == 0xda || m == 0xd9) return false;
        if (m == 0x01 || (m >= 0xd0 && m <= 0xd7)) { i += 2; continue; }
        i += 2 + ((size_t)b[i + 2] << 8 | b[i + 3]);
    }
    return false;
}

bool cam_mjpeg_decode(const uint8_t *jpeg, size_t size, cam_frame *f, char *err, size_t errsz) {
    if (size < 4 || jpeg[0] != 0xff || jpeg[1] != 0xd8) {
        snprintf(err, errsz, "MJPEG frame of %zu bytes does not start with a JPEG SOI marker", size);
        return false;
    }
    uint8_t *fixed = NULL;
    const uint8_t *src = jpeg;
    size_t n = size;
    if (!has_dht(jpeg, size)) {
        uint8_t dht[432];
        size_t d = standard_dht(dht);
        fixed = malloc(size + d);
        if (!fixed) return snprintf(err, errsz, "out of memory"), false;
        memcpy(fixed, jpeg, 2);
        memcpy(fixed + 2, dht, d);
        memcpy(fixed + 2 + d, jpeg + 2, size - 2);
        src = fixed, n = size + d;
    }
    mvk_image im;
    char why[256];
    mvk_status s = mvk_image_decode(src, n, 4, &im, why, sizeof why);
    free(fixed);
    if (s != MVK_OK) return snprintf(err, errsz, "MJPEG frame: %s", why), false;
    bool ok = cam_frame_reserve(f, im.w, im.h);
    if (ok) memcpy(f->rgba, im.pixels, (size_t)im.w * im.h * 4);
    else snprintf(err, errsz, "out of memory for a %dx%d frame", im.w, im.h);
    mvk_image_free(&im);
    return ok;
}
