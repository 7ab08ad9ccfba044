#include "testdata.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <stb_image_write.h>

#include "cam.h"
#include "io.h"

bool cam_test_make_source(const char *dir, int count, int scale) {
    mvk_idx idx;
    char err[512], path[1200];
    if (mvk_idx_read(CAM_TEST_FMNIST, &idx, err, sizeof err) != MVK_OK) {
        fprintf(stderr, "%s: %s (Debian package dataset-fashion-mnist)\n", CAM_TEST_FMNIST, err);
        return false;
    }
    bool ok = idx.ndim == 3 && idx.shape[0] >= count;
    int h = (int)idx.shape[1], w = (int)idx.shape[2], W = w * scale, H = h * scale;
    snprintf(path, sizeof path, "%s/png", dir);
    mkdir(dir, 0777);
    mkdir(path, 0777);
    snprintf(path, sizeof path, "%s/frames.y4m", dir);
    FILE *y4m = ok ? fopen(path, "wb") : NULL;
    uint8_t *rgb = malloc((size_t)W * H * 3), *luma = malloc((size_t)W * H);
    size_t chroma = (size_t)((W + 1) / 2) * ((H + 1) / 2);
    uint8_t *uv = malloc(chroma * 2);
    ok = ok && y4m && rgb && luma && uv;
    if (ok) {
        memset(uv, 128, chroma * 2);
        fprintf(y4m, "YUV4MPEG2 W%d H%d F25:1 Ip A1:1 C420jpeg XCOLORRANGE=FULL\n", W, H);
    }
    for (int i = 0; ok && i < count; i++) {
        const uint8_t *src = idx.data + (size_t)i * w * h;
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++) {
                uint8_t v = src[(y / scale) * w + x / scale];
                luma[(size_t)y * W + x] = v;
                memset(rgb + ((size_t)y * W + x) * 3, v, 3);
            }
        snprintf(path, sizeof path, "%s/png/img-%04d.png", dir, i);
        ok = stbi_write_png(path, W, H, 3, rgb, W * 3) != 0;
        ok = ok && fputs("FRAME\n", y4m) >= 0 && fwrite(luma, 1, (size_t)W * H, y4m) == (size_t)W * H &&
             fwrite(uv, 1, chroma * 2, y4m) == chroma * 2;
    }
    if (y4m && fclose(y4m) != 0) ok = false;
    if (!ok) fprintf(stderr, "cannot write the synthetic source under %s\n", dir);
    free(rgb);
    free(luma);
    free(uv);
    mvk_idx_free(&idx);
    return ok;
}

static bool near(const uint8_t *p, cam_rgb c, int tol) {
    return abs(p[0] - c.r) <= tol && abs(p[1] - c.g) <= tol && abs(p[2] - c.b) <= tol;
}

bool cam_test_check_shot(const char *png, char *why, int whysz) {
    uint8_t *raw = NULL;
    size_t size = 0;
    mvk_image im;
    char err[512];
    mvk_status s = mvk_file_read(png, &raw, &size, err, sizeof err);
    if (s == MVK_OK) s = mvk_image_decode(raw, size, 3, &im, err, sizeof err);
    mvk_file_free(raw);
    if (s != MVK_OK) return snprintf(why, (size_t)whysz, "%s: %s", png, err), false;
    bool ok = false;
    if (im.w < CAM_VIEW_W || im.h < CAM_VIEW_H) {
        snprintf(why, (size_t)whysz, "screenshot is %dx%d, smaller than the %dx%d view", im.w, im.h, CAM_VIEW_W, CAM_VIEW_H);
        goto done;
    }
    /* Not blank: many grey levels and colours over the whole view. */
    long hist[64] = {0}, header = 0, strip = 0, text = 0, bar = 0, frame_px = 0;
    for (int y = 0; y < CAM_VIEW_H; y++)
        for (int x = 0; x < CAM_VIEW_W; x++) {
            const uint8_t *p = im.pixels + ((size_t)y * im.w + x) * 3;
            hist[(p[0] >> 6) * 16 + (p[1] >> 6) * 4 + (p[2] >> 6)]++;
            bool in_strip = x >= CAM_STRIP_X && y >= CAM_HEADER_H && y < CAM_VIEW_H - CAM_FOOTER_H;
            if (y < CAM_HEADER_H && near(p, CAM_COLOR_HEADER, 6)) header++;
            if (in_strip && near(p, CAM_COLOR_STRIP, 6)) strip++;
            if (in_strip && near(p, CAM_COLOR_TEXT, 6)) text++;
            if (in_strip && near(p, CAM_COLOR_BAR, 6)) bar++;
            if (x < CAM_FRAME_W && y >= CAM_HEADER_H && y < CAM_VIEW_H - CAM_FOOTER_H && p[0] + p[1] + p[2] > 3 * 60)
                frame_px++;
        }
    int bins = 0;
    for (int i = 0; i < 64; i++) bins += hist[i] > 20;
    long strip_area = (long)CAM_STRIP_W * (CAM_VIEW_H - CAM_HEADER_H - CAM_FOOTER_H);
    if (bins < 4) snprintf(why, (size_t)whysz, "blank: only %d colour bins used", bins);
    else if (header < (long)CAM_VIEW_W * CAM_HEADER_H / 2) snprintf(why, (size_t)whysz, "no header bar (%ld px)", header);
    else if (strip < strip_area / 5) snprintf(why, (size_t)whysz, "no label strip background (%ld px)", strip);
    else if (text < 300) snprintf(why, (size_t)whysz, "no label text in the strip (%ld px)", text);
    else if (bar < 10) snprintf(why, (size_t)whysz, "no confidence bar in the strip (%ld px)", bar);
    else if (frame_px < 2000) snprintf(why, (size_t)whysz, "no live frame (%ld bright px)", frame_px);
    else {
        snprintf(why, (size_t)whysz, "%d colour bins, strip %ld px, text %ld px, bars %ld px, frame %ld px", bins, strip,
                 text, bar, frame_px);
        ok = true;
    }
done:
    mvk_image_free(&im);
    return ok;
}
