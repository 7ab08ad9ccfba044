/* Image to model input: colour conversion, centre crop to the model's aspect ratio, area or
 * bilinear resize, polarity and per-channel normalisation (docs/model-format.md "input"). */
#include <math.h>
#include <string.h>

#include "internal.h"
#include "model.h"

/* Luma of pixel (x, y) or channel ch of it, in [0, 1]. */
static float sample(const uint8_t *px, int w, int c, int x, int y, int ch, bool gray) {
    const uint8_t *p = px + ((size_t)y * w + x) * c;
    if (c < 3) return p[0] / 255.0f;
    if (gray) return (0.299f * p[0] + 0.587f * p[1] + 0.114f * p[2]) / 255.0f;
    return p[ch] / 255.0f;
}

mvk_status mvk_model_preprocess(const mvk_model *m, const uint8_t *pixels, int w, int h, int c,
                                int invert, float *out) {
    return mvk_preprocess_image(mvk_model_get_info(m), pixels, w, h, c, invert, out);
}

mvk_status mvk_preprocess_image(const mvk_model_info *info, const uint8_t *pixels, int w, int h, int c,
                                int invert, float *out) {
    if (!info || !pixels || !out || w < 1 || h < 1 || w > 65536 || h > 65536 || (c != 1 && c != 3 && c != 4))
        return MVK_ERR_INVALID_ARG;
    const int oc = info->channels, oh = info->height, ow = info->width;
    if (oc != 1 && oc != 3) return MVK_ERR_UNSUPPORTED;
    bool gray = oc == 1;
    /* Centre crop to the output aspect ratio. */
    double cw = w, ch = h;
    if ((double)w / h > (double)ow / oh) cw = (double)h * ow / oh;
    else ch = (double)w * oh / ow;
    double x0 = (w - cw) / 2, y0 = (h - ch) / 2, sx = cw / ow, sy = ch / oh;
    /* Polarity: -1 decides from the border; a light border means a dark object on light. */
    if (invert < 0) {
        double sum = 0;
        int cnt = 0;
        for (int x = 0; x < w; x++, cnt += 2) sum += sample(pixels, w, c, x, 0, 0, true) + sample(pixels, w, c, x, h - 1, 0, true);
        for (int y = 0; y < h; y++, cnt += 2) sum += sample(pixels, w, c, 0, y, 0, true) + sample(pixels, w, c, w - 1, y, 0, true);
        bool light_border = sum / cnt > 0.5;
        invert = info->light_on_dark ? light_border : !light_border;
    }
    for (int k = 0; k < oc; k++)
        for (int oy = 0; oy < oh; oy++)
            for (int ox = 0; ox < ow; ox++) {
                double v;
                if (sx > 1 || sy > 1) {
                    /* Downscale: average every source pixel whose centre falls in the cell. */
                    int xa = (int)floor(x0 + ox * sx), xb = (int)ceil(x0 + (ox + 1) * sx);
                    int ya = (int)floor(y0 + oy * sy), yb = (int)ceil(y0 + (oy + 1) * sy);
                    xa = MVK_MAX(xa, 0), ya = MVK_MAX(ya, 0), xb = MVK_MIN(MVK_MAX(xb, xa + 1), w);
                    yb = MVK_MIN(MVK_MAX(yb, ya + 1), h);
                    double sum = 0;
                    for (int y = ya; y < yb; y++)
                        for (int x = xa; x < xb; x++) sum += sample(pixels, w, c, x, y, k, gray);
                    v = sum / ((double)(xb - xa) * (yb - ya));
                } else {
                    /* Upscale: bilinear between pixel centres. */
                    double fx = x0 + (ox + 0.5) * sx - 0.5, fy = y0 + (oy + 0.5) * sy - 0.5;
                    fx = fx < 0 ? 0 : fx > w - 1 ? w - 1 : fx;
                    fy = fy < 0 ? 0 : fy > h - 1 ? h - 1 : fy;
                    int xa = (int)fx, ya = (int)fy;
                    int xb = MVK_MIN(xa + 1, w - 1), yb = MVK_MIN(ya + 1, h - 1);
                    double ax = fx - xa, ay = fy - ya;
                    v = (1 - ay) * ((1 - ax) * sample(pixels, w, c, xa, ya, k, gray) + ax * sample(pixels, w, c, xb, ya, k, gray)) +
                        ay * ((1 - ax) * sample(pixels, w, c, xa, yb, k, gray) + ax * sample(pixels, w, c, xb, yb, k, gray));
                }
                if (invert) v = 1.0 - v;
                out[((size_t)k * oh + oy) * ow + ox] = (float)((v - info->mean[k]) / info->std[k]);
            }
    return MVK_OK;
}
