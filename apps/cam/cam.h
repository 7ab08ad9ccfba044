/* mimovk-cam: live classification of camera frames, n frames per forward pass.
 *
 * Three threads (see main.c):
 *   capture    a cam_source (V4L2 camera, directory of images, Y4M file) -> RGBA frames ->
 *              the frame queue, and the latest frame for the preview;
 *   inference  owns the mvk context and model: takes n consecutive frames from the queue,
 *              preprocesses them (mvk_model_preprocess), runs one pass, labels them, and hands
 *              the pass to the pass queue;
 *   display    the main thread: the window (window.c, GLFW + Vulkan) or, headless, the writer of
 *              annotated PNGs and the JSON-lines log (output.c).
 * Everything here but window.c builds without GLFW; the tests link it as mvk_cam_core. */
#ifndef MVK_CAM_H
#define MVK_CAM_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mimovk.h"

/* ---- frames and pixel conversion (convert.c) ---------------------------------------------- */

typedef struct cam_frame {
    uint8_t *rgba;      /* w * h * 4 bytes; owned (cam_frame_free) */
    int w, h;
    size_t cap;         /* bytes allocated */
    uint64_t index;     /* position in the source's stream, from 0 */
    double t_capture;   /* app_now() when the frame was captured */
    char name[128];     /* a directory source's file name, else "" */
} cam_frame;

/* Makes room for a w x h frame (keeps the buffer when big enough). Returns false without memory. */
bool cam_frame_reserve(cam_frame *f, int w, int h);
void cam_frame_free(cam_frame *f);
/* Deep copy of src into dst (reusing dst's buffer). */
bool cam_frame_copy(cam_frame *dst, const cam_frame *src);

/* YUYV (YUY2) 4:2:2, `stride` bytes per row, BT.601; full = full-range (JPEG) else 16-235. */
void cam_yuyv_to_rgba(const uint8_t *src, int w, int h, size_t stride, bool full, uint8_t *rgba);
/* Planar YUV: chroma planes subsampled by sx, sy (1 or 2); u/v NULL for gray (Y only). */
void cam_yuv_planar_to_rgba(const uint8_t *y, const uint8_t *u, const uint8_t *v, int w, int h, int sx, int sy,
                            bool full, uint8_t *rgba);
/* Luma plane as classify computes it when it asks stb_image for one channel: (77 R + 150 G + 29 B) >> 8,
 * so a PNG frame reaches the model exactly as `mimovk classify` gives it. */
void cam_rgba_to_gray(const uint8_t *rgba, int w, int h, uint8_t *gray);
/* Decodes one MJPEG frame into f (RGBA). Webcams often leave out the Huffman tables (DHT); the
 * standard tables of the JPEG specification (Annex K.3) are put in before decoding then. */
bool cam_mjpeg_decode(const uint8_t *jpeg, size_t size, cam_frame *f, char *err, size_t errsz);

/* ---- sources (source.c) ------------------------------------------------------------------- */

typedef enum { CAM_FRAME = 0, CAM_END = 1, CAM_ERROR = -1 } cam_read;

typedef struct cam_source_opts {
    int width, height;   /* V4L2: size asked for (the driver may pick another) */
    const char *format;  /* V4L2: "yuyv", "mjpeg" or NULL (whichever the camera offers first) */
    bool loop;           /* directory and Y4M: start again at the end */
} cam_source_opts;

typedef struct cam_source cam_source;

/* spec: a V4L2 device (/dev/video*), a directory of images (PNG, JPEG, BMP, PGM/PPM; sorted by
 * name) or a .y4m file. Fails with a message in err: no such camera, not a capture device, no
 * supported pixel format, empty directory, malformed Y4M header. */
bool cam_source_open(const char *spec, const cam_source_opts *o, cam_source **out, char *err, size_t errsz);
/* Blocks until the next frame (or `stop` becomes true: CAM_END). A camera that goes away
 * mid-stream, or a truncated file, gives CAM_ERROR with the reason. */
cam_read cam_source_next(cam_source *s, cam_frame *f, atomic_bool *stop, char *err, size_t errsz);
/* "camera /dev/video0 640x480 YUYV", "directory x (120 images)", "y4m x.y4m 112x112 C420jpeg 25 fps" */
const char *cam_source_describe(const cam_source *s);
/* Frames per second of the source's own clock (Y4M header, camera), 0 if it has none. */
double cam_source_fps(const cam_source *s);
bool cam_source_is_camera(const cam_source *s);
void cam_source_close(cam_source *s);

/* V4L2 pixel formats mimovk-cam converts, in order of preference unless `want` names one.
 * Returns the chosen fourcc from `offered`, or 0 with the reason (listing what the camera
 * offers) in err. Exposed for the tests. */
uint32_t cam_pick_format(const uint32_t *offered, int count, const char *want, char *err, size_t errsz);
/* "YUYV" from a fourcc (static buffer per call site is not needed: writes into out[5]). */
void cam_fourcc_str(uint32_t fourcc, char out[5]);

/* Y4M stream header fields. */
typedef struct cam_y4m_header {
    int w, h;
    int sx, sy;          /* chroma subsampling; 0 for mono */
    bool full;           /* XCOLORRANGE=FULL */
    double fps;
    char chroma[64];
} cam_y4m_header;
/* Parses the first line of a Y4M file (without the newline). Exposed for the tests. */
bool cam_y4m_parse_header(const char *line, cam_y4m_header *h, char *err, size_t errsz);

/* ---- queues and the inference worker (pipeline.c) ----------------------------------------- */

#define CAM_QUEUE_CAP (2 * MVK_MAX_N)

/* Frames from capture to inference. Lossless (files, headless): a full queue blocks the
 * producer and every frame is classified in order. Live (camera, window): a full queue drops
 * its oldest frame, and the consumer takes the newest n consecutive frames, dropping older
 * ones, so results follow the camera rather than lag behind it. */
typedef struct cam_queue {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    cam_frame slot[CAM_QUEUE_CAP];
    int head, count;
    bool lossless, closed, aborted;
    uint64_t dropped;
} cam_queue;

void cam_queue_init(cam_queue *q, bool lossless);
void cam_queue_destroy(cam_queue *q);
/* Moves f's pixels into the queue (f gets a spare buffer back). False when aborted or out of memory. */
bool cam_queue_push(cam_queue *q, cam_frame *f);
/* No more frames will come: takers get what is left. */
void cam_queue_close(cam_queue *q);
/* Wakes everyone and makes push/take fail (shutdown). */
void cam_queue_abort(cam_queue *q);
/* Takes up to `want` consecutive frames into out[] (swapping buffers); waits until `want` are
 * there, the queue is closed (then fewer), or timeout_ms passed (then 0). Live queues give the
 * newest frames. Returns the count; -1 when aborted, or closed with nothing left. */
int cam_queue_take(cam_queue *q, cam_frame *out, int want, int timeout_ms);

/* One frame's answer. */
typedef struct cam_label {
    uint64_t frame;
    int cls;            /* argmax of the logits (first on ties) */
    float confidence;   /* softmax probability of cls */
} cam_label;

/* Softmax argmax of one logit row (as `mimovk classify --top 1` reports it). */
cam_label cam_label_logits(const float *logits, int classes);

/* The largest valid n of the model that is <= k (1 if none). */
int cam_n_at_most(const mvk_model_info *info, int k);
/* True when n divides the model's capacity. */
bool cam_n_valid(const mvk_model_info *info, int n);

/* A pass: n frames, their labels, what the model saw, and timings. */
typedef struct cam_pass {
    uint64_t seq;                 /* pass number from 0 */
    int n;                        /* frames in this pass = n it ran at */
    int requested_n;              /* n asked for (a stream's tail runs at a smaller valid n) */
    cam_frame frame[MVK_MAX_N];
    cam_label label[MVK_MAX_N];
    uint8_t *input_view;          /* n model inputs as 8-bit gray/RGB (channels*h*w each), denormalised */
    double preprocess_ms, run_ms; /* host preprocessing of the n frames; mvk_model_run */
    double t_done;                /* app_now() when the pass finished */
} cam_pass;

/* Passes from inference to display: lossless (blocks when full) or keep-latest. */
typedef struct cam_pass_queue {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    cam_pass *item[4];
    int head, count;
    bool lossless, closed, aborted;
} cam_pass_queue;

void cam_pass_queue_init(cam_pass_queue *q, bool lossless);
void cam_pass_queue_destroy(cam_pass_queue *q);
bool cam_pass_queue_push(cam_pass_queue *q, cam_pass *p);
/* Blocking (timeout_ms < 0) or with a timeout; NULL when closed and empty, aborted, or timed out. */
cam_pass *cam_pass_queue_pop(cam_pass_queue *q, int timeout_ms);
void cam_pass_queue_close(cam_pass_queue *q);
/* Closed (or aborted) and empty: no pass will come any more. */
bool cam_pass_queue_finished(cam_pass_queue *q);
void cam_pass_queue_abort(cam_pass_queue *q);
void cam_pass_free(cam_pass *p);

/* The inference worker. Owns ctx and model while its thread runs. */
typedef struct cam_worker {
    mvk_ctx *ctx;
    mvk_model *model;
    const mvk_model_info *info;
    atomic_int invert;           /* -1 auto (from the frame's border), 0, 1; changeable live */
    bool warm;                   /* run every valid n once before the first frame (plans ready) */
    atomic_int n;                /* n of the next pass; the display changes it live */
    cam_queue *frames;
    cam_pass_queue *passes;
    atomic_bool *stop;
    /* Results for status lines (read by the display). */
    atomic_ullong images, passes_done, run_ns; /* run_ns: time inside mvk_model_run */
    char error[512];             /* set before the thread ends on a failure */
    atomic_bool failed;
    float *x, *logits;           /* MVK_MAX_N inputs and logit rows */
    uint8_t *gray;               /* luma plane of one frame (1-channel models) */
    size_t gray_cap;
} cam_worker;

/* Sets groups to 1 (a pass is exactly n images) and fills the worker; cam_worker_free releases
 * its buffers (not ctx or model). */
mvk_status cam_worker_init(cam_worker *w, mvk_ctx *ctx, mvk_model *m, int n, int invert, cam_queue *frames,
                           cam_pass_queue *passes, atomic_bool *stop);
void cam_worker_free(cam_worker *w);
/* Thread body: runs passes until the frame queue ends or stop is set; closes the pass queue. */
void *cam_worker_main(void *arg);
/* Runs one pass over `count` frames (count a valid n) in the calling thread: preprocessing,
 * mvk_model_run, labels. The frames' pixels are moved into the pass. */
mvk_status cam_run_pass(cam_worker *w, cam_frame *frames, int count, int requested_n, uint64_t seq,
                        cam_pass **out);

/* ---- drawing (canvas.c) -------------------------------------------------------------------- */

typedef struct cam_canvas {
    uint8_t *px; /* RGBA, w*h*4 */
    int w, h;
} cam_canvas;

typedef struct cam_rgb {
    uint8_t r, g, b;
} cam_rgb;

/* Window layout (pixels of the canvas the window shows). */
enum {
    CAM_VIEW_W = 960,
    CAM_VIEW_H = 560,
    CAM_HEADER_H = 28,
    CAM_FOOTER_H = 20,
    CAM_FRAME_W = 640,                        /* live frame area, left */
    CAM_STRIP_X = CAM_FRAME_W,                /* label strip, right */
    CAM_STRIP_W = CAM_VIEW_W - CAM_FRAME_W,
};
/* Colours the screenshot test looks for. */
#define CAM_COLOR_BG ((cam_rgb){16, 16, 20})
#define CAM_COLOR_HEADER ((cam_rgb){36, 52, 92})
#define CAM_COLOR_STRIP ((cam_rgb){28, 30, 40})
#define CAM_COLOR_TEXT ((cam_rgb){240, 240, 240})
#define CAM_COLOR_BAR ((cam_rgb){80, 200, 120})

bool cam_canvas_init(cam_canvas *c, int w, int h);
void cam_canvas_free(cam_canvas *c);
void cam_fill(cam_canvas *c, int x, int y, int w, int h, cam_rgb col);
/* Draws text with stb_easy_font at integer scale s; returns the width drawn. */
int cam_text(cam_canvas *c, int x, int y, int s, cam_rgb col, const char *text);
int cam_text_width(const char *text, int s);
/* Draws a w x h image with c channels (1, 3, 4) scaled to fit (x, y, bw, bh), centred, aspect kept. */
void cam_blit_fit(cam_canvas *c, const uint8_t *px, int w, int h, int ch, int x, int y, int bw, int bh);

/* What the window shows. */
typedef struct cam_view_state {
    const cam_frame *live;        /* latest captured frame, or NULL */
    const cam_pass *pass;         /* last finished pass, or NULL */
    const mvk_model_info *info;
    int n;                        /* n asked for now */
    double capture_fps, view_fps, infer_per_s, classified_fps, pass_ms;
    uint64_t dropped;
    const char *source;
    const char *note;             /* a transient message ("n = 3 is not valid ..."), or NULL */
} cam_view_state;

void cam_draw_view(cam_canvas *c, const cam_view_state *st);
/* One annotated frame for --headless: the frame scaled into 640 x 480 at most (small frames
 * enlarged), with its label, confidence, n and pass below. Resizes c as needed. */
bool cam_draw_annotated(cam_canvas *c, const cam_pass *p, int i, const mvk_model_info *info);

/* ---- headless output (output.c) ------------------------------------------------------------ */

/* Writes an RGBA canvas as PNG at path via path.tmp + rename: never a half-written file. */
bool cam_write_png(const char *path, const cam_canvas *c, char *err, size_t errsz);

typedef struct cam_log {
    void *fp;                 /* FILE* of path.part */
    char path[1024];
    char part[1040];
} cam_log;

/* JSON lines, one per frame, written to path.part and renamed to path by cam_log_close. */
bool cam_log_open(cam_log *l, const char *path, char *err, size_t errsz);
bool cam_log_pass(cam_log *l, const cam_pass *p, const mvk_model_info *info, const char *png_dir);
bool cam_log_close(cam_log *l, char *err, size_t errsz);

/* ---- the window (window.c; only with GLFW) ------------------------------------------------- */

typedef struct cam_window cam_window;

/* Opens a window with a Vulkan swapchain on the physical device `dev` (the one the model runs
 * on; another that can present if it cannot). validation: the Khronos layer on this instance
 * too; each message is printed as "mimovk-cam: validation: ..." and counted. */
bool cam_window_open(const mvk_device_info *dev, int w, int h, const char *title, bool validation,
                     cam_window **out, char *err, size_t errsz);
/* Processes window events; returns keys pressed since the last call (GLFW key codes) into keys. */
int cam_window_poll(cam_window *win, int *keys, int max);
bool cam_window_should_close(const cam_window *win);
/* Shows the canvas (scaled to the window, aspect kept). False on a Vulkan failure (err set). */
bool cam_window_present(cam_window *win, const cam_canvas *c, char *err, size_t errsz);
int cam_window_validation_messages(const cam_window *win);
const char *cam_window_device_name(const cam_window *win);
void cam_window_close(cam_window *win);

#endif
