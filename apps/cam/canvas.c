/* Drawing into an RGBA canvas: rectangles, scaled images, text (stb_easy_font's quads filled
 * on the CPU), and the two layouts: the window's view and --headless's annotated frames. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cam.h"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wmissing-braces"
#include <stb_easy_font.h>
#pragma GCC diagnostic pop

bool cam_canvas_init(cam_canvas *c, int w, int h) {
    if (c->px && c->w == w && c->h == h) return true;
    uint8_t *p = realloc(c->px, (size_t)w * h * 4);
    if (!p) return false;
    c->px = p, c->w = w, c->h = h;
    return true;
}

void cam_canvas_free(cam_canvas *c) {
    free(c->px);
    memset(c, 0, sizeof *c);
}

void cam_fill(cam_canvas *c, int x, int y, int w, int h, cam_rgb col) {
    int x0 = x < 0 ? 0 : x, y0 = y < 0 ? 0 : y;
    int x1 = x + w > c->w ? c->w : x + w, y1 = y + h > c->h ? c->h : y + h;
    for (int j = y0; j < y1; j++)
        for (int i = x0; i < x1; i++) {
            uint8_t *p = c->px + ((size_t)j * c->w + i) * 4;
            p[0] = col.r, p[1] = col.g, p[2] = col.b, p[3] = 255;
        }
}

static void outline(cam_canvas *c, int x, int y, int w, int h, cam_rgb col) {
    cam_fill(c, x, y, w, 1, col);
    cam_fill(c, x, y + h - 1, w, 1, col);
    cam_fill(c, x, y, 1, h, col);
    cam_fill(c, x + w - 1, y, 1, h, col);
}

/* stb_easy_font's vertex: x, y, z floats and 4 colour bytes; 4 vertices per quad. */
typedef struct font_vertex {
    float x, y, z;
    uint8_t rgba[4];
} font_vertex;

int cam_text_width(const char *text, int s) { return stb_easy_font_width((char *)text) * s; }

int cam_text(cam_canvas *c, int x, int y, int s, cam_rgb col, const char *text) {
    static _Thread_local font_vertex v[4 * 2048];
    int quads = stb_easy_font_print(0, 0, (char *)text, NULL, v, (int)sizeof v);
    for (int q = 0; q < quads; q++) {
        const font_vertex *a = &v[4 * q];
        float x0 = a[0].x, y0 = a[0].y, x1 = a[0].x, y1 = a[0].y;
        for (int k = 1; k < 4; k++) {
            x0 = fminf(x0, a[k].x), x1 = fmaxf(x1, a[k].x);
            y0 = fminf(y0, a[k].y), y1 = fmaxf(y1, a[k].y);
        }
        int px = x + (int)lroundf(x0 * s), py = y + (int)lroundf(y0 * s);
        cam_fill(c, px, py, (int)lroundf((x1 - x0) * s), (int)lroundf((y1 - y0) * s), col);
    }
    return cam_text_width(text, s);
}

void cam_blit_fit(cam_canvas *c, const uint8_t *px, int w, int h, int ch, int x, int y, int bw, int bh) {
    if (!px || w < 1 || h < 1 || bw < 1 || bh < 1) return;
    double s = fmin((double)bw / w, (double)bh / h);
    int dw = (int)(w * s), dh = (int)(h * s);
    int ox = x + (bw - dw) / 2, oy = y + (bh - dh) / 2;
    for (int j = 0; j < dh; j++) {
        int yy = oy + j;
        if (yy < 0 || yy >= c->h) continue;
        int sy = (int)((j + 0.5) / s);
        sy = sy >= h ? h - 1 : sy;
        for (int i = 0; i < dw; i++) {
            int xx = ox + i;
            if (xx < 0 || xx >= c->w) continue;
            int sx = (int)((i + 0.5) / s);
            sx = sx >= w ? w - 1 : sx;
            const uint8_t *p = px + ((size_t)sy * w + sx) * ch;
            uint8_t *o = c->px + ((size_t)yy * c->w + xx) * 4;
            if (ch < 3) o[0] = o[1] = o[2] = p[0];
            else o[0] = p[0], o[1] = p[1], o[2] = p[2];
            o[3] = 255;
        }
    }
}

/* Planar model input (channels x h x w, 8-bit) to interleaved for cam_blit_fit. */
static void input_thumb(const mvk_model_info *info, const uint8_t *planar, uint8_t *out) {
    int hw = info->height * info->width, ch = info->channels;
    for (int p = 0; p < hw; p++)
        for (int k = 0; k < ch; k++) out[p * ch + k] = planar[k * hw + p];
}

static const char *label_name(const mvk_model_info *info, int cls) {
    static _Thread_local char buf[32];
    if (info->labels && cls >= 0 && cls < info->num_classes) return info->labels[cls];
    snprintf(buf, sizeof buf, "class %d", cls);
    return buf;
}

void cam_draw_view(cam_canvas *c, const cam_view_state *st) {
    const mvk_model_info *info = st->info;
    char line[256];
    cam_fill(c, 0, 0, c->w, c->h, CAM_COLOR_BG);

    /* Header: n and the two rates that matter, large. */
    cam_fill(c, 0, 0, c->w, CAM_HEADER_H, CAM_COLOR_HEADER);
    snprintf(line, sizeof line, "n = %d    %.1f frames/s    %.0f inferences/s", st->n, st->capture_fps,
             st->infer_per_s);
    cam_text(c, 10, 7, 2, CAM_COLOR_TEXT, line);
    snprintf(line, sizeof line, "%.1f ms/pass  view %.0f fps", st->pass_ms, st->view_fps);
    cam_text(c, c->w - cam_text_width(line, 1) - 10, 10, 1, CAM_COLOR_TEXT, line);

    /* The live frame, with the square the model sees (centre crop) outlined. */
    int fy = CAM_HEADER_H, fh = c->h - CAM_HEADER_H - CAM_FOOTER_H;
    if (st->live && st->live->rgba) {
        const cam_frame *f = st->live;
        cam_blit_fit(c, f->rgba, f->w, f->h, 4, 0, fy, CAM_FRAME_W, fh);
        double s = fmin((double)CAM_FRAME_W / f->w, (double)fh / f->h);
        double cw = f->w, chh = f->h, aspect = (double)info->width / info->height;
        if (cw / chh > aspect) cw = chh * aspect;
        else chh = cw / aspect;
        int dw = (int)(cw * s), dh = (int)(chh * s);
        outline(c, (CAM_FRAME_W - dw) / 2, fy + (fh - dh) / 2, dw, dh, CAM_COLOR_BAR);
    } else {
        const char *msg = "waiting for the first frame ...";
        cam_text(c, (CAM_FRAME_W - cam_text_width(msg, 2)) / 2, fy + fh / 2 - 8, 2, CAM_COLOR_TEXT, msg);
    }

    /* Label strip: one row per frame of the last pass. */
    cam_fill(c, CAM_STRIP_X, fy, CAM_STRIP_W, fh, CAM_COLOR_STRIP);
    const cam_pass *p = st->pass;
    snprintf(line, sizeof line, p ? "last pass: %d frame%s" : "no pass yet", p ? p->n : 0, p && p->n == 1 ? "" : "s");
    cam_text(c, CAM_STRIP_X + 8, fy + 6, 2, CAM_COLOR_TEXT, line);
    if (p) {
        int top = fy + 30, rows = p->n < 4 ? 4 : p->n, rh = (fh - 34) / rows;
        int thumb = rh - 4, s = rh >= 56 ? 2 : 1;
        uint8_t *tmp = malloc((size_t)info->channels * info->height * info->width);
        for (int i = 0; i < p->n; i++) {
            int y = top + i * rh, x = CAM_STRIP_X + 8;
            size_t img = (size_t)info->channels * info->height * info->width;
            if (tmp) {
                input_thumb(info, p->input_view + i * img, tmp);
                cam_blit_fit(c, tmp, info->width, info->height, info->channels, x, y + 2, thumb, thumb);
            }
            int tx = x + thumb + 8, tw = CAM_STRIP_X + CAM_STRIP_W - 8 - tx;
            const cam_label *l = &p->label[i];
            cam_text(c, tx, y + 2, s, CAM_COLOR_TEXT, label_name(info, l->cls));
            snprintf(line, sizeof line, "%.1f%%  #%llu", 100.0 * l->confidence, (unsigned long long)l->frame);
            cam_text(c, tx, y + 2 + 10 * s, s, CAM_COLOR_TEXT, line);
            int bh = s == 2 ? 8 : 3;
            cam_fill(c, tx, y + 4 + 20 * s, tw, bh, (cam_rgb){60, 64, 80});
            cam_fill(c, tx, y + 4 + 20 * s, (int)(tw * l->confidence), bh, CAM_COLOR_BAR);
        }
        free(tmp);
    }

    /* Footer: keys, source, notes. */
    int yb = c->h - CAM_FOOTER_H;
    cam_fill(c, 0, yb, c->w, CAM_FOOTER_H, CAM_COLOR_HEADER);
    char keys[64] = "";
    for (int i = 0; i < info->n_valid && info->valid_n[i] <= 9; i++)
        snprintf(keys + strlen(keys), sizeof keys - strlen(keys), "%s%d", i ? " " : "", info->valid_n[i]);
    snprintf(line, sizeof line, "keys: %s set n, +/- next n, p polarity, q quit    %s    dropped %llu",
             keys, st->note ? st->note : (st->source ? st->source : ""), (unsigned long long)st->dropped);
    cam_text(c, 10, yb + 6, 1, CAM_COLOR_TEXT, line);
}

bool cam_draw_annotated(cam_canvas *c, const cam_pass *p, int i, const mvk_model_info *info) {
    const cam_frame *f = &p->frame[i];
    double s = fmin(640.0 / f->w, 480.0 / f->h);
    int dw = (int)(f->w * s), dh = (int)(f->h * s), bar = 44;
    int w = dw < 320 ? 320 : dw;
    if (!cam_canvas_init(c, w, dh + bar)) return false;
    cam_fill(c, 0, 0, c->w, c->h, CAM_COLOR_BG);
    cam_blit_fit(c, f->rgba, f->w, f->h, 4, 0, 0, w, dh);
    cam_fill(c, 0, dh, w, bar, CAM_COLOR_STRIP);
    const cam_label *l = &p->label[i];
    char line[160];
    snprintf(line, sizeof line, "%s %.1f%%", label_name(info, l->cls), 100.0 * l->confidence);
    cam_text(c, 8, dh + 6, 2, CAM_COLOR_TEXT, line);
    snprintf(line, sizeof line, "frame %llu   n = %d   pass %llu (%.1f ms)", (unsigned long long)f->index, p->n,
             (unsigned long long)p->seq, p->run_ms);
    cam_text(c, 8, dh + 28, 1, CAM_COLOR_TEXT, line);
    cam_fill(c, w - 108, dh + 10, 100, 8, (cam_rgb){60, 64, 80});
    cam_fill(c, w - 108, dh + 10, (int)(100 * l->confidence), 8, CAM_COLOR_BAR);
    return true;
}
