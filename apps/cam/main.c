/* mimovk-cam MODEL [--source SRC] ...: classifies camera frames live, n frames per forward pass.
 *
 * Threads: capture (source -> frame queue, and the latest frame for the preview), inference
 * (the only user of the mvk context: frame queue -> passes), and this one, which shows the
 * window or, with --headless, writes annotated PNGs and the JSON-lines log. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cam.h"
#include "util_app.h"

static atomic_bool g_stop;
static atomic_int g_validation;

static void on_signal(int sig) {
    (void)sig;
    atomic_store(&g_stop, true);
}

static void on_validation(void *user, const char *msg) {
    (void)user, (void)msg; /* the library has logged it as "validation: ..." on stderr */
    atomic_fetch_add(&g_validation, 1);
}

static int usage(int rc) {
    fprintf(rc ? stderr : stdout,
            "usage: mimovk-cam MODEL [--source SRC] [--n N] [--headless --out DIR] [--log FILE]\n"
            "                  [--size WxH] [--format yuyv|mjpeg] [--fps F] [--loop] [--frames K]\n"
            "                  [--seconds S] [--invert | --no-invert]\n"
            "  SRC       a V4L2 camera (default /dev/video0), a directory of images or a .y4m file\n"
            "  --n N     frames per forward pass (a divisor of the model's capacity; keys change it live)\n"
            "  --headless --out DIR   no window: DIR/frame-NNNNNN.png (annotated) and DIR/frames.jsonl\n"
            "  --log FILE             JSON lines, one per classified frame (window mode too)\n"
            "  --size WxH, --format   what to ask the camera for (default 640x480, YUYV or MJPEG)\n"
            "  --fps F   pace a directory or Y4M source (default: its own rate, else 15; headless: as fast\n"
            "            as inference goes, every frame classified)\n"
            "  --loop    start a directory or Y4M source again at its end\n"
            "  --frames K, --seconds S   stop after K frames or S seconds\n"
            "  polarity is detected from each frame's border unless --invert/--no-invert is given\n"
            "keys: 1-9 set n (when valid), + / - next / previous valid n, p cycles polarity\n"
            "      (auto, invert, as is), q or Esc quits\n");
    return rc;
}

/* ---- capture thread ------------------------------------------------------------------------ */

typedef struct capture {
    cam_source *src;
    cam_queue *queue;
    double fps;              /* pacing; 0: none */
    uint64_t max_frames;     /* 0: no limit */
    pthread_mutex_t mu;      /* guards latest */
    cam_frame latest;
    uint64_t latest_seq;
    atomic_ullong captured;
    atomic_bool done, failed;
    char error[512];
} capture;

static void sleep_until(double t) {
    double d = t - app_now();
    if (d <= 0) return;
    struct timespec ts = {(time_t)d, (long)((d - (double)(time_t)d) * 1e9)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR && !atomic_load(&g_stop)) {
    }
}

static void *capture_main(void *arg) {
    capture *c = arg;
    cam_frame f;
    memset(&f, 0, sizeof f);
    double t0 = app_now();
    for (uint64_t k = 0; !atomic_load(&g_stop) && (!c->max_frames || k < c->max_frames); k++) {
        if (c->fps > 0) sleep_until(t0 + (double)k / c->fps);
        char err[512];
        cam_read r = cam_source_next(c->src, &f, &g_stop, err, sizeof err);
        if (r == CAM_END) break;
        if (r == CAM_ERROR) {
            snprintf(c->error, sizeof c->error, "%s", err);
            atomic_store(&c->failed, true);
            break;
        }
        pthread_mutex_lock(&c->mu);
        bool ok = cam_frame_copy(&c->latest, &f);
        c->latest_seq++;
        pthread_mutex_unlock(&c->mu);
        atomic_fetch_add(&c->captured, 1ull);
        if (!ok || !cam_queue_push(c->queue, &f)) break;
    }
    cam_frame_free(&f);
    cam_queue_close(c->queue);
    atomic_store(&c->done, true);
    return NULL;
}

/* ---- options ------------------------------------------------------------------------------- */

typedef struct opts {
    const char *model, *source, *out, *log, *format;
    long n;
    int width, height, invert;
    double fps, seconds;
    long frames;
    bool headless, loop, fps_given;
} opts;

static bool parse_double(const char *opt, const char *v, double lo, double *out) {
    char *end;
    double d = v ? strtod(v, &end) : 0;
    if (!v || *end || !(d >= lo) || d > 1e9) {
        fprintf(stderr, "mimovk-cam: %s needs a number >= %g\n", opt, lo);
        return false;
    }
    *out = d;
    return true;
}

/* 0: ok, else the exit code. */
static int parse(int argc, char **argv, opts *o) {
    memset(o, 0, sizeof *o);
    o->source = "/dev/video0";
    o->n = 1;
    o->invert = -1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        long tmp;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) return usage(0), -1;
        else if (!strcmp(a, "--source") && v) o->source = v, i++;
        else if (!strcmp(a, "--out") && v) o->out = v, i++;
        else if (!strcmp(a, "--log") && v) o->log = v, i++;
        else if (!strcmp(a, "--format") && v) o->format = v, i++;
        else if (!strcmp(a, "--n")) {
            if (!app_int("cam", a, v, 1, MVK_MAX_N, &o->n)) return 2;
            i++;
        } else if (!strcmp(a, "--size") && v) {
            int w = 0, h = 0;
            char x = 0, extra = 0;
            if (sscanf(v, "%d%c%d%c", &w, &x, &h, &extra) != 3 || x != 'x' || w < 2 || h < 1 || w > 16384 || h > 16384) {
                fprintf(stderr, "mimovk-cam: --size takes WIDTHxHEIGHT, e.g. 640x480\n");
                return 2;
            }
            o->width = w, o->height = h, i++;
        } else if (!strcmp(a, "--fps")) {
            if (!parse_double(a, v, 0.1, &o->fps)) return 2;
            o->fps_given = true, i++;
        } else if (!strcmp(a, "--seconds")) {
            if (!parse_double(a, v, 0, &o->seconds)) return 2;
            i++;
        } else if (!strcmp(a, "--frames")) {
            if (!app_int("cam", a, v, 1, 1000000000L, &tmp)) return 2;
            o->frames = tmp, i++;
        } else if (!strcmp(a, "--headless")) o->headless = true;
        else if (!strcmp(a, "--loop")) o->loop = true;
        else if (!strcmp(a, "--invert")) o->invert = 1;
        else if (!strcmp(a, "--no-invert")) o->invert = 0;
        else if (a[0] == '-') {
            fprintf(stderr, "mimovk-cam: unknown option or missing value: %s\n", a);
            return usage(2);
        } else if (!o->model) o->model = a;
        else {
            fprintf(stderr, "mimovk-cam: one model only (got '%s' too)\n", a);
            return usage(2);
        }
    }
    if (!o->model) return usage(2);
    if (o->headless && !o->out) {
        fprintf(stderr, "mimovk-cam: --headless needs --out DIR\n");
        return 2;
    }
    if (o->headless && o->loop && !o->frames && !o->seconds) {
        fprintf(stderr, "mimovk-cam: --headless --loop never ends: give --frames or --seconds\n");
        return 2;
    }
    return 0;
}

/* ---- rates for the status line ------------------------------------------------------------- */

typedef struct rates {
    double t;
    unsigned long long captured, images, run_ns, views;
    double capture_fps, classified_fps, infer_per_s, view_fps;
} rates;

static void rates_update(rates *r, double now, unsigned long long captured, unsigned long long images,
                         unsigned long long run_ns, unsigned long long views) {
    double dt = now - r->t;
    if (dt < 0.5) return;
    r->capture_fps = (double)(captured - r->captured) / dt;
    r->classified_fps = (double)(images - r->images) / dt;
    if (run_ns > r->run_ns) r->infer_per_s = (double)(images - r->images) / ((double)(run_ns - r->run_ns) * 1e-9);
    r->view_fps = (double)(views - r->views) / dt;
    r->t = now, r->captured = captured, r->images = images, r->run_ns = run_ns, r->views = views;
}

/* ---- headless ------------------------------------------------------------------------------ */

static int run_headless(const opts *o, cam_worker *w, cam_pass_queue *passes, cam_log *log) {
    cam_canvas canvas = {0};
    char err[1024];
    int rc = 0;
    double start = app_now();
    for (;;) {
        if (o->seconds > 0 && app_now() - start >= o->seconds) atomic_store(&g_stop, true);
        cam_pass *p = cam_pass_queue_pop(passes, 200);
        if (!p) {
            if (cam_pass_queue_finished(passes)) break;
            continue;
        }
        for (int i = 0; i < p->n && rc == 0; i++) {
            char path[1200];
            snprintf(path, sizeof path, "%s/frame-%06llu.png", o->out, (unsigned long long)p->frame[i].index);
            if (!cam_draw_annotated(&canvas, p, i, w->info)) {
                fprintf(stderr, "mimovk-cam: out of memory\n");
                rc = 1;
            } else if (!cam_write_png(path, &canvas, err, sizeof err)) {
                fprintf(stderr, "mimovk-cam: %s\n", err);
                rc = 1;
            }
        }
        if (rc == 0 && !cam_log_pass(log, p, w->info, o->out)) {
            fprintf(stderr, "mimovk-cam: %s: write error\n", log->part);
            rc = 1;
        }
        cam_pass_free(p);
        if (rc) {
            atomic_store(&g_stop, true);
            break;
        }
    }
    cam_canvas_free(&canvas);
    return rc;
}

/* ---- window -------------------------------------------------------------------------------- */

#ifdef MVK_CAM_WINDOW
static int next_n(const mvk_model_info *info, int n, int dir) {
    int i = 0;
    while (i < info->n_valid && info->valid_n[i] != n) i++;
    i = (i + dir + info->n_valid) % info->n_valid;
    return info->valid_n[i];
}

static int run_window(const opts *o, cam_window *win, cam_worker *w, capture *cap, cam_pass_queue *passes,
                      cam_queue *frames, cam_log *log, const char *source_desc) {
    cam_canvas canvas = {0};
    cam_frame live = {0};
    cam_pass *last = NULL;
    uint64_t seen = 0;
    rates r = {.t = app_now()};
    unsigned long long views = 0;
    char note[160] = "", err[1024];
    double note_until = 0, start = app_now();
    int rc = 0;
    static const char *polarity[3] = {"polarity: as is", "polarity: inverted", "polarity: auto (from the border)"};
    if (w->warm) snprintf(note, sizeof note, "preparing every n ..."), note_until = start + 3600;
    if (!cam_canvas_init(&canvas, CAM_VIEW_W, CAM_VIEW_H)) {
        fprintf(stderr, "mimovk-cam: out of memory\n");
        return 1;
    }
    while (!atomic_load(&g_stop)) {
        double now = app_now();
        if (o->seconds > 0 && now - start >= o->seconds) break;
        int keys[16], nk = cam_window_poll(win, keys, 16);
        for (int k = 0; k < nk; k++) {
            int key = keys[k], n = atomic_load(&w->n), want = 0;
            if (key == 'q' || key == 27) atomic_store(&g_stop, true);
            else if (key >= '1' && key <= '9') want = key - '0';
            else if (key == '+') want = next_n(w->info, n, 1);
            else if (key == '-') want = next_n(w->info, n, -1);
            else if (key == 'p') {
                int inv = atomic_load(&w->invert), nx = inv < 0 ? 1 : inv == 1 ? 0 : -1;
                atomic_store(&w->invert, nx);
                snprintf(note, sizeof note, "%s", polarity[nx < 0 ? 2 : nx]);
                note_until = now + 3;
            }
            if (want && cam_n_valid(w->info, want)) {
                atomic_store(&w->n, want);
                snprintf(note, sizeof note, "n = %d", want);
                note_until = now + 2;
                fprintf(stderr, "mimovk-cam: n = %d\n", want);
            } else if (want) {
                char list[64] = "";
                for (int i = 0; i < w->info->n_valid; i++)
                    snprintf(list + strlen(list), sizeof list - strlen(list), " %d", w->info->valid_n[i]);
                snprintf(note, sizeof note, "n = %d does not divide the capacity %d (valid:%s)", want,
                         w->info->capacity, list);
                note_until = now + 3;
            }
        }
        if (cam_window_should_close(win)) break;
        if (atomic_load(&cap->failed)) {
            fprintf(stderr, "mimovk-cam: %s\n", cap->error);
            rc = 1;
            break;
        }
        if (atomic_load(&w->failed)) break;
        pthread_mutex_lock(&cap->mu);
        if (cap->latest_seq != seen && cap->latest.rgba) {
            seen = cap->latest_seq;
            if (!cam_frame_copy(&live, &cap->latest)) seen = 0;
        }
        pthread_mutex_unlock(&cap->mu);
        for (cam_pass *p; (p = cam_pass_queue_pop(passes, 0));) {
            if (log->fp && !cam_log_pass(log, p, w->info, NULL)) {
                fprintf(stderr, "mimovk-cam: %s: write error\n", log->part);
                rc = 1;
                atomic_store(&g_stop, true);
            }
            if (!last) {
                fprintf(stderr, "mimovk-cam: first pass shown (n = %d)\n", p->n);
                if (w->warm) note_until = 0;
            }
            cam_pass_free(last);
            last = p;
        }
        rates_update(&r, now, atomic_load(&cap->captured), atomic_load(&w->images), atomic_load(&w->run_ns), views);
        pthread_mutex_lock(&frames->mu);
        uint64_t dropped = frames->dropped;
        pthread_mutex_unlock(&frames->mu);
        cam_view_state st = {
            .live = live.rgba ? &live : NULL, .pass = last, .info = w->info, .n = atomic_load(&w->n),
            .capture_fps = r.capture_fps, .view_fps = r.view_fps, .infer_per_s = r.infer_per_s,
            .classified_fps = r.classified_fps, .pass_ms = last ? last->run_ms : 0, .dropped = dropped,
            .source = source_desc,
            .note = now < note_until ? note : atomic_load(&cap->done) ? "end of the source" : NULL};
        cam_draw_view(&canvas, &st);
        if (!cam_window_present(win, &canvas, err, sizeof err)) {
            fprintf(stderr, "mimovk-cam: %s\n", err);
            rc = 1;
            break;
        }
        views++;
        /* At most ~60 views a second whatever the present mode does. */
        sleep_until(now + 1.0 / 60);
    }
    atomic_store(&g_stop, true);
    cam_pass_free(last);
    cam_frame_free(&live);
    cam_canvas_free(&canvas);
    return rc;
}
#endif

/* ---- main ---------------------------------------------------------------------------------- */

int main(int argc, char **argv) {
    opts o;
    int prc = parse(argc, argv, &o);
    if (prc) return prc < 0 ? 0 : prc;
#ifndef MVK_CAM_WINDOW
    if (!o.headless) {
        fprintf(stderr, "mimovk-cam: this build has no window (GLFW, Debian package libglfw3-dev, was missing "
                        "when it was configured): use --headless --out DIR\n");
        return 2;
    }
#endif
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    int rc = 1;
    char err[1024];
    mvk_ctx *ctx = NULL;
    mvk_model *model = NULL;
    cam_source *src = NULL;
    cam_log log = {0};
#ifdef MVK_CAM_WINDOW
    cam_window *win = NULL;
#endif
    cam_queue frames;
    cam_pass_queue passes;
    cam_worker worker;
    capture cap;
    bool queues = false, cap_started = false, worker_started = false;
    double t0 = 0, t1 = 0;
    pthread_t cap_thread, worker_thread;
    memset(&cap, 0, sizeof cap);
    memset(&worker, 0, sizeof worker);

    mvk_ctx_params params = mvk_ctx_default_params();
    params.on_validation = on_validation;
    mvk_status s = mvk_ctx_create(&params, &ctx);
    if (s != MVK_OK) {
        fprintf(stderr, "mimovk-cam: no Vulkan context: %s: %s\n", mvk_status_str(s), mvk_ctx_error(NULL));
        goto done;
    }
    if ((s = mvk_model_load(ctx, o.model, &model)) != MVK_OK) {
        fprintf(stderr, "mimovk-cam: %s: %s: %s\n", o.model, mvk_status_str(s), mvk_ctx_error(ctx));
        goto done;
    }
    const mvk_model_info *info = mvk_model_get_info(model);
    if (!cam_n_valid(info, (int)o.n)) {
        char list[64] = "";
        for (int i = 0; i < info->n_valid; i++)
            snprintf(list + strlen(list), sizeof list - strlen(list), "%s%d", i ? ", " : "", info->valid_n[i]);
        fprintf(stderr, "mimovk-cam: --n %ld does not divide the capacity %d of %s (valid n: %s)\n", o.n,
                info->capacity, info->name, list);
        rc = 2;
        goto done;
    }
    cam_source_opts so = {o.width, o.height, o.format, o.loop};
    if (!cam_source_open(o.source, &so, &src, err, sizeof err)) {
        fprintf(stderr, "mimovk-cam: %s\n", err);
        goto done;
    }
    fprintf(stderr, "mimovk-cam: %s on %s, %s, n = %ld\n", info->name, mvk_ctx_device(ctx)->name,
            cam_source_describe(src), o.n);
    if (o.headless) {
        if (mkdir(o.out, 0777) != 0 && errno != EEXIST) {
            fprintf(stderr, "mimovk-cam: %s: %s\n", o.out, strerror(errno));
            goto done;
        }
        char path[1200];
        snprintf(path, sizeof path, "%s/frames.jsonl", o.out);
        if (!cam_log_open(&log, o.log ? o.log : path, err, sizeof err)) {
            fprintf(stderr, "mimovk-cam: %s\n", err);
            goto done;
        }
    } else if (o.log && !cam_log_open(&log, o.log, err, sizeof err)) {
        fprintf(stderr, "mimovk-cam: %s\n", err);
        goto done;
    }
#ifdef MVK_CAM_WINDOW
    if (!o.headless) {
        const char *v = getenv("MIMOVK_VALIDATION");
        bool validation = params.validation > 0 || (params.validation < 0 && v && *v && strcmp(v, "0"));
        if (!cam_window_open(mvk_ctx_device(ctx), CAM_VIEW_W, CAM_VIEW_H, "mimovk-cam", validation, &win, err,
                             sizeof err)) {
            fprintf(stderr, "mimovk-cam: cannot open the window: %s\n", err);
            goto done;
        }
        fprintf(stderr, "mimovk-cam: window on %s\n", cam_window_device_name(win));
    }
#endif
    /* Files are classified frame by frame when headless; a camera (or a window) wants the newest. */
    cam_queue_init(&frames, o.headless);
    cam_pass_queue_init(&passes, o.headless);
    queues = true;
    if ((s = cam_worker_init(&worker, ctx, model, (int)o.n, o.invert, &frames, &passes, &g_stop)) != MVK_OK) {
        fprintf(stderr, "mimovk-cam: %s: %s\n", mvk_status_str(s), mvk_ctx_error(ctx));
        goto done;
    }
    worker.warm = !o.headless;
    cap.src = src;
    cap.queue = &frames;
    cap.max_frames = o.frames > 0 ? (uint64_t)o.frames : 0;
    if (!cam_source_is_camera(src) && (o.fps_given || !o.headless))
        cap.fps = o.fps_given ? o.fps : cam_source_fps(src) > 0 ? cam_source_fps(src) : 15;
    pthread_mutex_init(&cap.mu, NULL);
    /* From here on the context belongs to the inference thread until it is joined. */
    if (pthread_create(&worker_thread, NULL, cam_worker_main, &worker) != 0) {
        fprintf(stderr, "mimovk-cam: cannot start the inference thread\n");
        goto done;
    }
    worker_started = true;
    if (pthread_create(&cap_thread, NULL, capture_main, &cap) != 0) {
        fprintf(stderr, "mimovk-cam: cannot start the capture thread\n");
        atomic_store(&g_stop, true);
        goto done;
    }
    cap_started = true;

    t0 = app_now();
#ifdef MVK_CAM_WINDOW
    if (!o.headless) rc = run_window(&o, win, &worker, &cap, &passes, &frames, &log, cam_source_describe(src));
    else
#endif
        rc = run_headless(&o, &worker, &passes, &log);
    t1 = app_now();
    atomic_store(&g_stop, true);
    if (o.headless && atomic_load(&cap.failed)) {
        fprintf(stderr, "mimovk-cam: %s\n", cap.error);
        rc = 1;
    }
    if (atomic_load(&worker.failed)) {
        fprintf(stderr, "mimovk-cam: %s\n", worker.error);
        rc = 1;
    }
done:
    atomic_store(&g_stop, true);
    if (queues) {
        cam_queue_abort(&frames);
        cam_pass_queue_abort(&passes);
    }
    if (cap_started) pthread_join(cap_thread, NULL);
    if (worker_started) pthread_join(worker_thread, NULL);
    if (cap_started || worker_started) {
        pthread_mutex_destroy(&cap.mu);
        cam_frame_free(&cap.latest);
    }
    if (t1 > t0) {
        unsigned long long images = atomic_load(&worker.images), run_ns = atomic_load(&worker.run_ns);
        fprintf(stderr, "mimovk-cam: %llu frames classified in %llu passes, %.1f frames/s overall, %.0f inferences/s "
                        "in the model, %llu dropped\n",
                images, (unsigned long long)atomic_load(&worker.passes_done), images / (t1 - t0),
                run_ns ? images / (run_ns * 1e-9) : 0.0, (unsigned long long)frames.dropped);
    }
    if (log.fp && !cam_log_close(&log, err, sizeof err)) {
        fprintf(stderr, "mimovk-cam: %s\n", err);
        rc = 1;
    }
#ifdef MVK_CAM_WINDOW
    if (win) {
        int v = cam_window_validation_messages(win);
        if (v) atomic_fetch_add(&g_validation, v);
        cam_window_close(win);
    }
#endif
    if (queues) {
        cam_queue_destroy(&frames);
        cam_pass_queue_destroy(&passes);
    }
    cam_worker_free(&worker);
    cam_source_close(src);
    mvk_model_destroy(model);
    mvk_ctx_destroy(ctx);
    if (atomic_load(&g_validation)) {
        fprintf(stderr, "mimovk-cam: %d validation messages\n", atomic_load(&g_validation));
        rc = 1;
    }
    return rc;
}
