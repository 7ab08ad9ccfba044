/* mimovk-cam's frame pipeline without a device: pixel conversion, MJPEG (with and without
 * Huffman tables), V4L2 format choice, Y4M and directory sources, the frame queue's grouping
 * (lossless and live), labels, drawing and the output files. */
#include <dirent.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/videodev2.h>
#include <stb_image_write.h>

#include "cam.h"
#include "harness.h"
#include "io.h"

static char tmpdir[256];

static int group_setup(void **state) {
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/mvk-test-cam-XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int group_teardown(void **state) {
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static void tmp_path(char *out, size_t n, const char *name) { snprintf(out, n, "%s/%s", tmpdir, name); }

/* ---- conversion ------------------------------------------------------------------------------- */

static void test_yuyv(void **state) {
    (void)state;
    /* Two pixels per 4 bytes: Y0 U Y1 V. Limited range: 16 is black, 235 white; full: as is. */
    const uint8_t yuyv[8] = {16, 128, 235, 128, 81, 90, 145, 54};
    uint8_t out[16];
    cam_yuyv_to_rgba(yuyv, 4, 1, 8, false, out);
    assert_int_equal(out[0], 0), assert_int_equal(out[1], 0), assert_int_equal(out[2], 0), assert_int_equal(out[3], 255);
    assert_int_equal(out[4], 255), assert_int_equal(out[5], 255), assert_int_equal(out[6], 255);
    /* BT.601 limited red (81, 90, 240) and green (145, 54, 34): both pixels share U, V of the pair. */
    const uint8_t red[4] = {81, 90, 81, 240};
    cam_yuyv_to_rgba(red, 2, 1, 4, false, out);
    assert_true(out[0] >= 253 && out[1] <= 2 && out[2] <= 2);
    /* Full range gray stays exact; stride larger than the row is honoured. */
    uint8_t rows[2][12];
    memset(rows, 0, sizeof rows);
    for (int r = 0; r < 2; r++) {
        rows[r][0] = (uint8_t)(10 + r), rows[r][1] = 128, rows[r][2] = (uint8_t)(200 + r), rows[r][3] = 128;
    }
    cam_yuyv_to_rgba(&rows[0][0], 2, 2, 12, true, out);
    assert_int_equal(out[0], 10), assert_int_equal(out[4], 200), assert_int_equal(out[8], 11), assert_int_equal(out[12], 201);
}

static void test_planar(void **state) {
    (void)state;
    const uint8_t y[6] = {0, 50, 100, 150, 200, 255}, u[2] = {128, 128}, v[2] = {128, 128};
    uint8_t out[24];
    cam_yuv_planar_to_rgba(y, u, v, 3, 2, 2, 2, true, out);
    for (int i = 0; i < 6; i++) assert_int_equal(out[i * 4], y[i]), assert_int_equal(out[i * 4 + 2], y[i]);
    cam_yuv_planar_to_rgba(y, NULL, NULL, 3, 2, 1, 1, false, out);
    assert_int_equal(out[0], 0), assert_int_equal(out[5 * 4], 255);
}

typedef struct membuf {
    uint8_t *p;
    size_t n;
} membuf;

static void mem_write(void *ctx, void *data, int size) {
    membuf *m = ctx;
    m->p = realloc(m->p, m->n + (size_t)size);
    assert_non_null(m->p);
    memcpy(m->p + m->n, data, (size_t)size);
    m->n += (size_t)size;
}

static void test_gray_matches_stb(void **state) {
    (void)state;
    /* The luma cam feeds a 1-channel model must equal what classify gets from stb_image. */
    enum { W = 37, H = 23 };
    uint8_t rgb[W * H * 3];
    for (int i = 0; i < W * H * 3; i++) rgb[i] = (uint8_t)(i * 131 + (i >> 3) * 17);
    membuf png = {0};
    assert_true(stbi_write_png_to_func(mem_write, &png, W, H, 3, rgb, W * 3));
    mvk_image g, c;
    char err[256];
    assert_int_equal(mvk_image_decode(png.p, png.n, 1, &g, err, sizeof err), MVK_OK);
    assert_int_equal(mvk_image_decode(png.p, png.n, 4, &c, err, sizeof err), MVK_OK);
    uint8_t gray[W * H];
    cam_rgba_to_gray(c.pixels, W, H, gray);
    assert_memory_equal(gray, g.pixels, W * H);
    mvk_image_free(&g);
    mvk_image_free(&c);
    free(png.p);
}

/* Removes every DHT segment (FF C4) before the scan, as Motion-JPEG cameras send frames. */
static size_t strip_dht(const uint8_t *in, size_t n, uint8_t *out) {
    size_t i = 2, k = 2;
    memcpy(out, in, 2);
    while (i + 4 <= n && in[i] == 0xff && in[i + 1] != 0xda) {
        size_t len = 2 + ((size_t)in[i + 2] << 8 | in[i + 3]);
        if (in[i + 1] != 0xc4) memcpy(out + k, in + i, len), k += len;
        i += len;
    }
    memcpy(out + k, in + i, n - i);
    return k + n - i;
}

static void test_mjpeg(void **state) {
    (void)state;
    enum { W = 64, H = 48 };
    uint8_t rgb[W * H * 3];
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            uint8_t *p = rgb + (y * W + x) * 3;
            p[0] = (uint8_t)(x * 4), p[1] = (uint8_t)(y * 5), p[2] = (uint8_t)((x ^ y) * 3);
        }
    membuf jpg = {0};
    assert_true(stbi_write_jpg_to_func(mem_write, &jpg, W, H, 3, rgb, 90));
    mvk_image ref;
    char err[256];
    assert_int_equal(mvk_image_decode(jpg.p, jpg.n, 4, &ref, err, sizeof err), MVK_OK);
    cam_frame f = {0};
    assert_true(cam_mjpeg_decode(jpg.p, jpg.n, &f, err, sizeof err));
    assert_int_equal(f.w, W), assert_int_equal(f.h, H);
    assert_memory_equal(f.rgba, ref.pixels, W * H * 4);
    /* Without its Huffman tables the frame decodes the same: the standard ones are the encoder's. */
    uint8_t *bare = malloc(jpg.n);
    size_t nb = strip_dht(jpg.p, jpg.n, bare);
    assert_true(nb < jpg.n);
    mvk_image plain;
    assert_int_not_equal(mvk_image_decode(bare, nb, 4, &plain, err, sizeof err), MVK_OK);
    cam_frame g = {0};
    assert_true(cam_mjpeg_decode(bare, nb, &g, err, sizeof err));
    assert_memory_equal(g.rgba, ref.pixels, W * H * 4);
    /* Garbage is an error with a message, never a crash. */
    assert_false(cam_mjpeg_decode((const uint8_t *)"\xff\xd8\xff\xe0 not a jpeg", 16, &g, err, sizeof err));
    assert_non_null(strstr(err, "MJPEG"));
    assert_false(cam_mjpeg_decode((const uint8_t *)"hello", 5, &g, err, sizeof err));
    cam_frame_free(&f);
    cam_frame_free(&g);
    mvk_image_free(&ref);
    free(bare);
    free(jpg.p);
}

static void test_pick_format(void **state) {
    (void)state;
    char err[256];
    const uint32_t both[] = {V4L2_PIX_FMT_MJPEG, V4L2_PIX_FMT_YUYV};
    assert_int_equal(cam_pick_format(both, 2, NULL, err, sizeof err), V4L2_PIX_FMT_YUYV);
    assert_int_equal(cam_pick_format(both, 2, "mjpeg", err, sizeof err), V4L2_PIX_FMT_MJPEG);
    const uint32_t jpeg_only[] = {V4L2_PIX_FMT_JPEG};
    assert_int_equal(cam_pick_format(jpeg_only, 1, "mjpeg", err, sizeof err), V4L2_PIX_FMT_JPEG);
    assert_int_equal(cam_pick_format(jpeg_only, 1, "yuyv", err, sizeof err), 0);
    assert_non_null(strstr(err, "unsupported pixel format"));
    const uint32_t other[] = {V4L2_PIX_FMT_NV12, V4L2_PIX_FMT_H264};
    assert_int_equal(cam_pick_format(other, 2, NULL, err, sizeof err), 0);
    assert_non_null(strstr(err, "unsupported pixel format: the camera offers NV12 H264"));
    assert_int_equal(cam_pick_format(both, 2, "rgb", err, sizeof err), 0);
    assert_non_null(strstr(err, "--format"));
}

/* ---- sources ---------------------------------------------------------------------------------- */

static void test_y4m_header(void **state) {
    (void)state;
    cam_y4m_header h;
    char err[256];
    assert_true(cam_y4m_parse_header("YUV4MPEG2 W640 H480 F30000:1001 Ip A1:1", &h, err, sizeof err));
    assert_int_equal(h.w, 640), assert_int_equal(h.h, 480), assert_int_equal(h.sx, 2), assert_int_equal(h.sy, 2);
    assert_true(fabs(h.fps - 29.97) < 0.01);
    assert_false(h.full);
    assert_true(cam_y4m_parse_header("YUV4MPEG2 W3 H2 Cmono XCOLORRANGE=FULL", &h, err, sizeof err));
    assert_int_equal(h.sx, 0), assert_true(h.full);
    assert_true(cam_y4m_parse_header("YUV4MPEG2 W8 H8 C422", &h, err, sizeof err));
    assert_int_equal(h.sx, 2), assert_int_equal(h.sy, 1);
    assert_false(cam_y4m_parse_header("YUV4MPEG W8 H8", &h, err, sizeof err));
    assert_non_null(strstr(err, "not a Y4M"));
    assert_false(cam_y4m_parse_header("YUV4MPEG2 W8", &h, err, sizeof err));
    assert_non_null(strstr(err, "size"));
    assert_false(cam_y4m_parse_header("YUV4MPEG2 W8 H8 C420p10", &h, err, sizeof err));
    assert_non_null(strstr(err, "unsupported Y4M colour space"));
    assert_false(cam_y4m_parse_header("YUV4MPEG2 W8x H8", &h, err, sizeof err));
}

static void write_y4m(const char *path, int frames, bool truncate_last) {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fprintf(f, "YUV4MPEG2 W4 H2 F10:1 C420jpeg XCOLORRANGE=FULL\n");
    for (int i = 0; i < frames; i++) {
        uint8_t plane[8 + 2 + 2];
        for (int k = 0; k < 8; k++) plane[k] = (uint8_t)(i * 10 + k);
        memset(plane + 8, 128, 4);
        fputs("FRAME\n", f);
        fwrite(plane, 1, truncate_last && i == frames - 1 ? 5 : sizeof plane, f);
    }
    fclose(f);
}

static void test_y4m_source(void **state) {
    (void)state;
    char path[400], err[512];
    tmp_path(path, sizeof path, "a.y4m");
    write_y4m(path, 3, false);
    cam_source *s;
    cam_source_opts o = {0};
    assert_true(cam_source_open(path, &o, &s, err, sizeof err));
    assert_true(fabs(cam_source_fps(s) - 10) < 1e-9);
    assert_false(cam_source_is_camera(s));
    cam_frame f = {0};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(cam_source_next(s, &f, NULL, err, sizeof err), CAM_FRAME);
        assert_int_equal(f.index, i), assert_int_equal(f.w, 4), assert_int_equal(f.h, 2);
        assert_int_equal(f.rgba[0], i * 10), assert_int_equal(f.rgba[7 * 4 + 1], i * 10 + 7);
    }
    assert_int_equal(cam_source_next(s, &f, NULL, err, sizeof err), CAM_END);
    cam_source_close(s);
    /* Looping starts again; indices go on. */
    o.loop = true;
    assert_true(cam_source_open(path, &o, &s, err, sizeof err));
    for (int i = 0; i < 7; i++) assert_int_equal(cam_source_next(s, &f, NULL, err, sizeof err), CAM_FRAME);
    assert_int_equal(f.index, 6), assert_int_equal(f.rgba[0], 0);
    cam_source_close(s);
    /* A file that ends inside a frame (a camera that went away, a copy cut short): an error. */
    tmp_path(path, sizeof path, "cut.y4m");
    write_y4m(path, 2, true);
    o.loop = false;
    assert_true(cam_source_open(path, &o, &s, err, sizeof err));
    assert_int_equal(cam_source_next(s, &f, NULL, err, sizeof err), CAM_FRAME);
    assert_int_equal(cam_source_next(s, &f, NULL, err, sizeof err), CAM_ERROR);
    assert_non_null(strstr(err, "truncated"));
    cam_source_close(s);
    cam_frame_free(&f);
}

static void test_dir_source(void **state) {
    (void)state;
    char dir[400], path[600], err[512];
    tmp_path(dir, sizeof dir, "imgs");
    mkdir(dir, 0777);
    cam_source *s;
    cam_source_opts o = {0};
    assert_false(cam_source_open(dir, &o, &s, err, sizeof err));
    assert_non_null(strstr(err, "no images"));
    const char *names[3] = {"b.png", "a.png", "c.bmp"};
    for (int i = 0; i < 3; i++) {
        uint8_t px[6 * 5];
        memset(px, i * 40, sizeof px);
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        assert_true(i == 2 ? stbi_write_bmp(path, 6, 5, 1, px) : stbi_write_png(path, 6, 5, 1, px, 6));
    }
    snprintf(path, sizeof path, "%s/notes.txt", dir);
    FILE *f = fopen(path, "w");
    fputs("not an image", f);
    fclose(f);
    assert_true(cam_source_open(dir, &o, &s, err, sizeof err));
    cam_frame fr = {0};
    const char *order[3] = {"a.png", "b.png", "c.bmp"};
    const int value[3] = {40, 0, 80};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(cam_source_next(s, &fr, NULL, err, sizeof err), CAM_FRAME);
        assert_string_equal(fr.name, order[i]);
        assert_int_equal(fr.rgba[0], value[i]), assert_int_equal(fr.rgba[3], 255);
    }
    assert_int_equal(cam_source_next(s, &fr, NULL, err, sizeof err), CAM_END);
    cam_source_close(s);
    /* A broken image is an error naming the file. */
    snprintf(path, sizeof path, "%s/d.png", dir);
    f = fopen(path, "w");
    fputs("\x89PNG broken", f);
    fclose(f);
    assert_true(cam_source_open(dir, &o, &s, err, sizeof err));
    for (int i = 0; i < 3; i++) assert_int_equal(cam_source_next(s, &fr, NULL, err, sizeof err), CAM_FRAME);
    assert_int_equal(cam_source_next(s, &fr, NULL, err, sizeof err), CAM_ERROR);
    assert_non_null(strstr(err, "d.png"));
    cam_source_close(s);
    cam_frame_free(&fr);
}

static void test_no_camera(void **state) {
    (void)state;
    char err[512];
    cam_source *s = NULL;
    cam_source_opts o = {0};
    assert_false(cam_source_open("/dev/video-mimovk-none", &o, &s, err, sizeof err));
    assert_null(s);
    assert_non_null(strstr(err, "no camera at /dev/video-mimovk-none"));
    /* /dev/null is no V4L2 device. */
    assert_false(cam_source_open("/dev/null", &o, &s, err, sizeof err));
    assert_non_null(strstr(err, "not a V4L2 device"));
    assert_false(cam_source_open("/nonexistent/x.mp4", &o, &s, err, sizeof err));
    assert_non_null(strstr(err, "no such file"));
}

/* ---- grouping --------------------------------------------------------------------------------- */

static void make_frame(cam_frame *f, uint64_t index) {
    assert_true(cam_frame_reserve(f, 2, 2));
    memset(f->rgba, (int)(index & 0xff), 16);
    f->index = index;
}

typedef struct producer {
    cam_queue *q;
    int count;
} producer;

static void *produce(void *arg) {
    producer *p = arg;
    cam_frame f = {0};
    for (int i = 0; i < p->count; i++) {
        make_frame(&f, (uint64_t)i);
        if (!cam_queue_push(p->q, &f)) break;
    }
    cam_frame_free(&f);
    cam_queue_close(p->q);
    return NULL;
}

static void test_queue_lossless(void **state) {
    (void)state;
    /* Every frame, in order, n at a time; the tail comes out short when the source ends. */
    cam_queue q;
    cam_queue_init(&q, true);
    producer p = {&q, 103};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, produce, &p), 0);
    cam_frame out[MVK_MAX_N];
    memset(out, 0, sizeof out);
    uint64_t next = 0;
    int k, sizes = 0;
    while ((k = cam_queue_take(&q, out, 4, 1000)) != -1) {
        if (k == 0) continue;
        for (int i = 0; i < k; i++) {
            assert_int_equal(out[i].index, next);
            assert_int_equal(out[i].rgba[0], next & 0xff);
            next++;
        }
        sizes += k == 4 ? 0 : k;
    }
    assert_int_equal(next, 103);
    assert_int_equal(sizes, 3);
    assert_int_equal(q.dropped, 0);
    pthread_join(t, NULL);
    for (int i = 0; i < MVK_MAX_N; i++) cam_frame_free(&out[i]);
    cam_queue_destroy(&q);
}

static void test_queue_live(void **state) {
    (void)state;
    /* A camera does not wait: a full queue drops its oldest, a take gives the newest n in a row. */
    cam_queue q;
    cam_queue_init(&q, false);
    cam_frame f = {0}, out[4];
    memset(out, 0, sizeof out);
    for (int i = 0; i < CAM_QUEUE_CAP + 8; i++) {
        make_frame(&f, (uint64_t)i);
        assert_true(cam_queue_push(&q, &f));
    }
    assert_int_equal(q.dropped, 8);
    assert_int_equal(cam_queue_take(&q, out, 4, 0), 4);
    for (int i = 0; i < 4; i++) assert_int_equal(out[i].index, CAM_QUEUE_CAP + 4 + i);
    assert_int_equal(q.dropped, CAM_QUEUE_CAP + 4);
    /* Fewer than n: wait (here: time out with nothing taken). */
    make_frame(&f, 1000);
    assert_true(cam_queue_push(&q, &f));
    assert_int_equal(cam_queue_take(&q, out, 2, 10), 0);
    make_frame(&f, 1001);
    assert_true(cam_queue_push(&q, &f));
    assert_int_equal(cam_queue_take(&q, out, 2, 10), 2);
    assert_int_equal(out[0].index, 1000), assert_int_equal(out[1].index, 1001);
    cam_queue_abort(&q);
    assert_int_equal(cam_queue_take(&q, out, 2, 10), -1);
    assert_false(cam_queue_push(&q, &f));
    cam_frame_free(&f);
    for (int i = 0; i < 4; i++) cam_frame_free(&out[i]);
    cam_queue_destroy(&q);
}

static void test_labels(void **state) {
    (void)state;
    const float l[4] = {1, 3, 3, -2};
    cam_label r = cam_label_logits(l, 4);
    assert_int_equal(r.cls, 1); /* the first of equal maxima, as classify */
    double e = exp(0.0) / (exp(-2.0) + 2 * exp(0.0) + exp(-5.0));
    assert_true(fabs(r.confidence - e) < 1e-6);
    const float n[3] = {NAN, 0.5f, 0.25f};
    assert_int_equal(cam_label_logits(n, 3).cls, 1);
    mvk_model_info info;
    memset(&info, 0, sizeof info);
    info.n_valid = 4;
    info.valid_n[0] = 1, info.valid_n[1] = 2, info.valid_n[2] = 4, info.valid_n[3] = 8;
    info.capacity = 8;
    assert_int_equal(cam_n_at_most(&info, 7), 4);
    assert_int_equal(cam_n_at_most(&info, 3), 2);
    assert_int_equal(cam_n_at_most(&info, 1), 1);
    assert_int_equal(cam_n_at_most(&info, 100), 8);
    assert_true(cam_n_valid(&info, 8));
    assert_false(cam_n_valid(&info, 3));
}

/* ---- drawing and output ----------------------------------------------------------------------- */

static long count_color(const cam_canvas *c, int x0, int y0, int w, int h, cam_rgb col) {
    long n = 0;
    for (int y = y0; y < y0 + h; y++)
        for (int x = x0; x < x0 + w; x++) {
            const uint8_t *p = c->px + ((size_t)y * c->w + x) * 4;
            n += p[0] == col.r && p[1] == col.g && p[2] == col.b;
        }
    return n;
}

static void test_canvas(void **state) {
    (void)state;
    cam_canvas c = {0};
    assert_true(cam_canvas_init(&c, 200, 40));
    cam_fill(&c, 0, 0, 200, 40, (cam_rgb){0, 0, 0});
    cam_fill(&c, -5, -5, 10, 10, (cam_rgb){1, 2, 3}); /* clipped, no overrun */
    assert_int_equal(count_color(&c, 0, 0, 200, 40, (cam_rgb){1, 2, 3}), 25);
    int w = cam_text(&c, 4, 4, 2, CAM_COLOR_TEXT, "Ankle boot 97.5%");
    assert_int_equal(w, cam_text_width("Ankle boot 97.5%", 2));
    assert_true(w > 100 && w < 196);
    long lit = count_color(&c, 0, 0, 200, 40, CAM_COLOR_TEXT);
    assert_true(lit > 200);
    assert_int_equal(count_color(&c, 0, 0, 4, 40, CAM_COLOR_TEXT), 0); /* nothing left of x */
    /* A 2x1 image fitted into 20x20 fills a 20x10 band, centred. */
    const uint8_t px[2] = {10, 200};
    cam_fill(&c, 0, 0, 200, 40, (cam_rgb){0, 0, 0});
    cam_blit_fit(&c, px, 2, 1, 1, 0, 0, 20, 20);
    assert_int_equal(count_color(&c, 0, 5, 10, 10, (cam_rgb){10, 10, 10}), 100);
    assert_int_equal(count_color(&c, 10, 5, 10, 10, (cam_rgb){200, 200, 200}), 100);
    assert_int_equal(count_color(&c, 0, 0, 20, 5, (cam_rgb){0, 0, 0}), 100);
    cam_canvas_free(&c);
}

static void test_png_and_log(void **state) {
    (void)state;
    cam_canvas c = {0};
    assert_true(cam_canvas_init(&c, 8, 4));
    cam_fill(&c, 0, 0, 8, 4, (cam_rgb){9, 8, 7});
    char path[400], err[512];
    tmp_path(path, sizeof path, "x.png");
    assert_true(cam_write_png(path, &c, err, sizeof err));
    char tmp[420];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    assert_int_equal(access(tmp, F_OK), -1);
    uint8_t *raw;
    size_t size;
    mvk_image im;
    assert_int_equal(mvk_file_read(path, &raw, &size, err, sizeof err), MVK_OK);
    assert_int_equal(mvk_image_decode(raw, size, 4, &im, err, sizeof err), MVK_OK);
    assert_int_equal(im.w, 8), assert_int_equal(im.pixels[0], 9);
    mvk_image_free(&im);
    mvk_file_free(raw);
    /* An unwritable place: an error, and no file at all. */
    assert_false(cam_write_png("/nonexistent-dir/x.png", &c, err, sizeof err));
    assert_int_equal(access("/nonexistent-dir/x.png.tmp", F_OK), -1);

    /* The log is LOG.part until it is closed. */
    cam_log log;
    tmp_path(path, sizeof path, "frames.jsonl");
    assert_true(cam_log_open(&log, path, err, sizeof err));
    static const char *labels[2] = {"Shirt", "Bag \"big\""};
    mvk_model_info info;
    memset(&info, 0, sizeof info);
    info.num_classes = 2;
    info.labels = labels;
    cam_pass *p = calloc(1, sizeof *p);
    p->n = 2, p->requested_n = 2, p->seq = 5;
    p->frame[0].index = 10, p->frame[1].index = 11;
    snprintf(p->frame[1].name, sizeof p->frame[1].name, "b.png");
    p->label[0] = (cam_label){10, 0, 0.5f};
    p->label[1] = (cam_label){11, 1, 0.25f};
    assert_true(cam_log_pass(&log, p, &info, NULL));
    assert_int_equal(access(path, F_OK), -1);
    assert_int_equal(access(log.part, F_OK), 0);
    assert_true(cam_log_close(&log, err, sizeof err));
    assert_int_equal(access(log.part, F_OK), -1);
    FILE *f = fopen(path, "r");
    char line[2][512];
    assert_non_null(fgets(line[0], sizeof line[0], f));
    assert_non_null(fgets(line[1], sizeof line[1], f));
    fclose(f);
    assert_non_null(strstr(line[0], "\"frame\": 10, \"file\": \"\", \"class\": 0, \"label\": \"Shirt\", \"confidence\": 0.500000, \"n\": 2"));
    assert_non_null(strstr(line[1], "\"file\": \"b.png\""));
    assert_non_null(strstr(line[1], "\"label\": \"Bag \\\"big\\\"\""));
    assert_non_null(strstr(line[1], "\"pass\": 5"));
    cam_pass_free(p);
    cam_canvas_free(&c);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_yuyv),         cmocka_unit_test(test_planar),       cmocka_unit_test(test_gray_matches_stb),
        cmocka_unit_test(test_mjpeg),        cmocka_unit_test(test_pick_format),  cmocka_unit_test(test_y4m_header),
        cmocka_unit_test(test_y4m_source),   cmocka_unit_test(test_dir_source),   cmocka_unit_test(test_no_camera),
        cmocka_unit_test(test_queue_lossless), cmocka_unit_test(test_queue_live), cmocka_unit_test(test_labels),
        cmocka_unit_test(test_canvas),       cmocka_unit_test(test_png_and_log),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
