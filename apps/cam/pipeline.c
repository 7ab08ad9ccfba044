/* The frame queue, the pass queue and the inference worker. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cam.h"
#include "util_app.h"

static void cond_init(pthread_cond_t *cv) {
    pthread_condattr_t a;
    pthread_condattr_init(&a);
    pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
    pthread_cond_init(cv, &a);
    pthread_condattr_destroy(&a);
}

/* Waits on cv until the absolute monotonic deadline; returns false on timeout. */
static bool wait_until(pthread_cond_t *cv, pthread_mutex_t *mu, const struct timespec *deadline) {
    if (!deadline) return pthread_cond_wait(cv, mu), true;
    return pthread_cond_timedwait(cv, mu, deadline) != ETIMEDOUT;
}

static struct timespec deadline_in(int ms) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    t.tv_sec += ms / 1000;
    t.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (t.tv_nsec >= 1000000000L) t.tv_sec++, t.tv_nsec -= 1000000000L;
    return t;
}

static void swap_frames(cam_frame *a, cam_frame *b) {
    cam_frame t = *a;
    *a = *b;
    *b = t;
}

/* ---- frame queue --------------------------------------------------------------------------- */

void cam_queue_init(cam_queue *q, bool lossless) {
    memset(q, 0, sizeof *q);
    pthread_mutex_init(&q->mu, NULL);
    cond_init(&q->cv);
    q->lossless = lossless;
}

void cam_queue_destroy(cam_queue *q) {
    for (int i = 0; i < CAM_QUEUE_CAP; i++) cam_frame_free(&q->slot[i]);
    pthread_mutex_destroy(&q->mu);
    pthread_cond_destroy(&q->cv);
}

bool cam_queue_push(cam_queue *q, cam_frame *f) {
    pthread_mutex_lock(&q->mu);
    while (q->lossless && q->count == CAM_QUEUE_CAP && !q->aborted) pthread_cond_wait(&q->cv, &q->mu);
    bool ok = !q->aborted && !q->closed;
    if (ok) {
        if (q->count == CAM_QUEUE_CAP) {
            /* Live: the oldest frame's slot is the new tail. */
            q->head = (q->head + 1) % CAM_QUEUE_CAP;
            q->count--;
            q->dropped++;
        }
        swap_frames(&q->slot[(q->head + q->count) % CAM_QUEUE_CAP], f);
        q->count++;
        pthread_cond_broadcast(&q->cv);
    }
    pthread_mutex_unlock(&q->mu);
    return ok;
}

void cam_queue_close(cam_queue *q) {
    pthread_mutex_lock(&q->mu);
    q->closed = true;
    pthread_cond_broadcast(&q->cv);
    pthread_mutex_unlock(&q->mu);
}

void cam_queue_abort(cam_queue *q) {
    pthread_mutex_lock(&q->mu);
    q->aborted = true;
    pthread_cond_broadcast(&q->cv);
    pthread_mutex_unlock(&q->mu);
}

int cam_queue_take(cam_queue *q, cam_frame *out, int want, int timeout_ms) {
    struct timespec dl = deadline_in(timeout_ms);
    pthread_mutex_lock(&q->mu);
    while (!q->aborted && !q->closed && q->count < want)
        if (!wait_until(&q->cv, &q->mu, timeout_ms < 0 ? NULL : &dl)) break;
    int k = 0;
    if (q->aborted || (q->closed && q->count == 0)) k = -1;
    else if (q->count >= want || q->closed) {
        k = q->count < want ? q->count : want;
        if (!q->lossless) {
            int skip = q->count - k; /* newest k: drop what came before them */
            q->head = (q->head + skip) % CAM_QUEUE_CAP;
            q->count -= skip;
            q->dropped += (uint64_t)skip;
        }
        for (int i = 0; i < k; i++) {
            swap_frames(&out[i], &q->slot[q->head]);
            q->head = (q->head + 1) % CAM_QUEUE_CAP;
            q->count--;
        }
        pthread_cond_broadcast(&q->cv);
    }
    pthread_mutex_unlock(&q->mu);
    return k;
}

/* ---- pass queue ---------------------------------------------------------------------------- */

enum { PASS_CAP = (int)(sizeof ((cam_pass_queue *)0)->item / sizeof(cam_pass *)) };

void cam_pass_queue_init(cam_pass_queue *q, bool lossless) {
    memset(q, 0, sizeof *q);
    pthread_mutex_init(&q->mu, NULL);
    cond_init(&q->cv);
    q->lossless = lossless;
}

void cam_pass_queue_destroy(cam_pass_queue *q) {
    while (q->count) {
        cam_pass_free(q->item[q->head]);
        q->head = (q->head + 1) % PASS_CAP;
        q->count--;
    }
    pthread_mutex_destroy(&q->mu);
    pthread_cond_destroy(&q->cv);
}

bool cam_pass_queue_push(cam_pass_queue *q, cam_pass *p) {
    pthread_mutex_lock(&q->mu);
    while (q->lossless && q->count == PASS_CAP && !q->aborted) pthread_cond_wait(&q->cv, &q->mu);
    bool ok = !q->aborted;
    if (ok) {
        if (q->count == PASS_CAP) { /* keep-latest: the display only wants the newest */
            cam_pass_free(q->item[q->head]);
            q->head = (q->head + 1) % PASS_CAP;
            q->count--;
        }
        q->item[(q->head + q->count) % PASS_CAP] = p;
        q->count++;
        pthread_cond_broadcast(&q->cv);
    }
    pthread_mutex_unlock(&q->mu);
    if (!ok) cam_pass_free(p);
    return ok;
}

cam_pass *cam_pass_queue_pop(cam_pass_queue *q, int timeout_ms) {
    struct timespec dl = deadline_in(timeout_ms < 0 ? 0 : timeout_ms);
    pthread_mutex_lock(&q->mu);
    while (!q->aborted && !q->closed && q->count == 0)
        if (!wait_until(&q->cv, &q->mu, timeout_ms < 0 ? NULL : &dl)) break;
    cam_pass *p = NULL;
    if (!q->aborted && q->count) {
        p = q->item[q->head];
        q->head = (q->head + 1) % PASS_CAP;
        q->count--;
        pthread_cond_broadcast(&q->cv);
    }
    pthread_mutex_unlock(&q->mu);
    return p;
}

void cam_pass_queue_close(cam_pass_queue *q) {
    pthread_mutex_lock(&q->mu);
    q->closed = true;
    pthread_cond_broadcast(&q->cv);
    pthread_mutex_unlock(&q->mu);
}

bool cam_pass_queue_finished(cam_pass_queue *q) {
    pthread_mutex_lock(&q->mu);
    bool r = q->aborted || (q->closed && q->count == 0);
    pthread_mutex_unlock(&q->mu);
    return r;
}

void cam_pass_queue_abort(cam_pass_queue *q) {
    pthread_mutex_lock(&q->mu);
    q->aborted = true;
    pthread_cond_broadcast(&q->cv);
    pthread_mutex_unlock(&q->mu);
}

void cam_pass_free(cam_pass *p) {
    if (!p) return;
    for (int i = 0; i < MVK_MAX_N; i++) cam_frame_free(&p->frame[i]);
    free(p->input_view);
    free(p);
}

/* ---- labels and n -------------------------------------------------------------------------- */

cam_label cam_label_logits(const float *l, int classes) {
    /* As cmd_classify.c: max-subtracted softmax in double, first largest non-NaN logit. */
    cam_label r = {0, -1, 0};
    double mx = l[0], sum = 0;
    for (int c = 1; c < classes; c++) mx = l[c] > mx ? l[c] : mx;
    for (int c = 0; c < classes; c++) sum += exp(l[c] - mx);
    for (int c = 0; c < classes; c++)
        if (!isnan(l[c]) && (r.cls < 0 || l[c] > l[r.cls])) r.cls = c;
    if (r.cls >= 0) r.confidence = (float)(exp(l[r.cls] - mx) / sum);
    else r.cls = 0;
    return r;
}

bool cam_n_valid(const mvk_model_info *info, int n) {
    for (int i = 0; i < info->n_valid; i++)
        if (info->valid_n[i] == n) return true;
    return false;
}

int cam_n_at_most(const mvk_model_info *info, int k) {
    int best = 1;
    for (int i = 0; i < info->n_valid; i++)
        if (info->valid_n[i] <= k && info->valid_n[i] > best) best = info->valid_n[i];
    return best;
}

/* ---- the worker ---------------------------------------------------------------------------- */

mvk_status cam_worker_init(cam_worker *w, mvk_ctx *ctx, mvk_model *m, int n, int invert, cam_queue *frames,
                           cam_pass_queue *passes, atomic_bool *stop) {
    memset(w, 0, sizeof *w);
    w->ctx = ctx;
    w->model = m;
    w->info = mvk_model_get_info(m);
    atomic_init(&w->invert, invert);
    atomic_init(&w->n, n);
    w->frames = frames;
    w->passes = passes;
    w->stop = stop;
    size_t img = (size_t)w->info->channels * w->info->height * w->info->width;
    w->x = malloc(MVK_MAX_N * img * sizeof *w->x);
    w->logits = malloc((size_t)MVK_MAX_N * w->info->num_classes * sizeof *w->logits);
    if (!w->x || !w->logits) return MVK_ERR_OUT_OF_HOST_MEMORY;
    /* A pass is exactly n images: no padding groups computed for nothing. */
    return mvk_model_set_groups(m, 1);
}

void cam_worker_free(cam_worker *w) {
    free(w->x);
    free(w->logits);
    free(w->gray);
    w->x = w->logits = NULL;
    w->gray = NULL;
}

mvk_status cam_run_pass(cam_worker *w, cam_frame *frames, int count, int requested_n, uint64_t seq,
                        cam_pass **out) {
    *out = NULL;
    const mvk_model_info *info = w->info;
    size_t img = (size_t)info->channels * info->height * info->width;
    cam_pass *p = calloc(1, sizeof *p);
    if (!p || !(p->input_view = malloc((size_t)count * img))) {
        free(p);
        return MVK_ERR_OUT_OF_HOST_MEMORY;
    }
    double t0 = app_now();
    int invert = atomic_load(&w->invert);
    mvk_status s = MVK_OK;
    for (int i = 0; i < count && s == MVK_OK; i++) {
        cam_frame *f = &frames[i];
        float *x = w->x + (size_t)i * img;
        if (info->channels == 1) {
            size_t need = (size_t)f->w * f->h;
            if (need > w->gray_cap) {
                uint8_t *g = realloc(w->gray, need);
                if (!g) { s = MVK_ERR_OUT_OF_HOST_MEMORY; break; }
                w->gray = g, w->gray_cap = need;
            }
            cam_rgba_to_gray(f->rgba, f->w, f->h, w->gray);
            s = mvk_model_preprocess(w->model, w->gray, f->w, f->h, 1, invert, x);
        } else s = mvk_model_preprocess(w->model, f->rgba, f->w, f->h, 4, invert, x);
    }
    double t1 = app_now();
    if (s == MVK_OK) s = mvk_model_run(w->model, count, w->x, count, w->logits);
    double t2 = app_now();
    if (s != MVK_OK) {
        cam_pass_free(p);
        return s;
    }
    p->seq = seq;
    p->n = count;
    p->requested_n = requested_n;
    p->preprocess_ms = (t1 - t0) * 1e3;
    p->run_ms = (t2 - t1) * 1e3;
    p->t_done = t2;
    for (int i = 0; i < count; i++) {
        swap_frames(&p->frame[i], &frames[i]);
        p->label[i] = cam_label_logits(w->logits + (size_t)i * info->num_classes, info->num_classes);
        p->label[i].frame = p->frame[i].index;
        /* What the model saw, back in 8 bits: x * std + mean. */
        for (size_t k = 0; k < img; k++) {
            int c = (int)(k / ((size_t)info->height * info->width));
            double v = (w->x[(size_t)i * img + k] * info->std[c] + info->mean[c]) * 255.0;
            p->input_view[(size_t)i * img + k] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v + 0.5);
        }
    }
    atomic_fetch_add(&w->images, (unsigned long long)count);
    atomic_fetch_add(&w->passes_done, 1ull);
    atomic_fetch_add(&w->run_ns, (unsigned long long)((t2 - t1) * 1e9));
    *out = p;
    return MVK_OK;
}

/* Runs every valid n once on zeros so that switching n later costs no plan or pipeline creation. */
static mvk_status warm_up(cam_worker *w) {
    size_t img = (size_t)w->info->channels * w->info->height * w->info->width;
    memset(w->x, 0, MVK_MAX_N * img * sizeof *w->x);
    for (int i = 0; i < w->info->n_valid && !atomic_load(w->stop); i++) {
        int n = w->info->valid_n[i];
        mvk_status s = mvk_model_run(w->model, n, w->x, n, w->logits);
        if (s != MVK_OK) return s;
    }
    return MVK_OK;
}

static void fail(cam_worker *w, mvk_status s, const char *what, int n) {
    const char *msg = mvk_ctx_error(w->ctx);
    snprintf(w->error, sizeof w->error, "%s at n = %d: %s%s%s", what, n, mvk_status_str(s), msg && *msg ? ": " : "",
             msg ? msg : "");
    atomic_store(&w->failed, true);
    atomic_store(w->stop, true);
}

void *cam_worker_main(void *arg) {
    cam_worker *w = arg;
    cam_frame batch[MVK_MAX_N];
    memset(batch, 0, sizeof batch);
    uint64_t seq = 0;
    mvk_status ws = w->warm ? warm_up(w) : MVK_OK;
    if (ws != MVK_OK) {
        fail(w, ws, "warm-up", 0);
        goto out;
    }
    while (!atomic_load(w->stop)) {
        int n = atomic_load(&w->n);
        int k = cam_queue_take(w->frames, batch, n, 100);
        if (k < 0) break;
        /* The end of a stream may leave fewer than n: they run at the largest valid smaller n. */
        for (int pos = 0; pos < k;) {
            int c = cam_n_at_most(w->info, k - pos);
            cam_pass *p = NULL;
            mvk_status s = cam_run_pass(w, batch + pos, c, n, seq++, &p);
            if (s != MVK_OK) {
                fail(w, s, "inference", c);
                goto out;
            }
            if (!cam_pass_queue_push(w->passes, p)) goto out;
            pos += c;
        }
    }
out:
    for (int i = 0; i < MVK_MAX_N; i++) cam_frame_free(&batch[i]);
    cam_pass_queue_close(w->passes);
    return NULL;
}
