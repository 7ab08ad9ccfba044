/* Frame sources: a V4L2 camera (YUYV or MJPEG, memory-mapped streaming), a directory of images,
 * a Y4M video file. Every source hands out RGBA frames. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/videodev2.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cam.h"
#include "io.h"
#include "util_app.h"

typedef enum { SRC_V4L2, SRC_DIR, SRC_Y4M } src_kind;

typedef struct v4l2_buf {
    void *ptr;
    size_t len;
} v4l2_buf;

struct cam_source {
    src_kind kind;
    char desc[512];
    char path[1024];
    bool loop;
    uint64_t next_index;
    double fps;
    /* directory */
    char **names;
    int nnames, pos;
    /* y4m */
    FILE *fp;
    long data_start;
    cam_y4m_header y4m;
    uint8_t *plane;
    size_t plane_bytes;
    /* v4l2 */
    int fd;
    uint32_t fourcc;
    int w, h;
    size_t stride;
    bool full_range, streaming;
    v4l2_buf bufs[8];
    int nbufs;
    int bad_frames;
};

/* ---- formats ------------------------------------------------------------------------------- */

void cam_fourcc_str(uint32_t f, char out[5]) {
    for (int i = 0; i < 4; i++) {
        char c = (char)((f >> (8 * i)) & 0xff);
        out[i] = c >= 32 && c < 127 ? c : '?';
    }
    out[4] = 0;
}

static const uint32_t supported[] = {V4L2_PIX_FMT_YUYV, V4L2_PIX_FMT_MJPEG, V4L2_PIX_FMT_JPEG};

uint32_t cam_pick_format(const uint32_t *offered, int count, const char *want, char *err, size_t errsz) {
    uint32_t only = 0;
    if (want && *want) {
        if (!strcasecmp(want, "yuyv")) only = V4L2_PIX_FMT_YUYV;
        else if (!strcasecmp(want, "mjpeg") || !strcasecmp(want, "mjpg")) only = V4L2_PIX_FMT_MJPEG;
        else {
            snprintf(err, errsz, "--format takes yuyv or mjpeg, not '%s'", want);
            return 0;
        }
    }
    for (size_t s = 0; s < sizeof supported / sizeof *supported; s++) {
        uint32_t f = supported[s];
        if (only && f != only && !(only == V4L2_PIX_FMT_MJPEG && f == V4L2_PIX_FMT_JPEG)) continue;
        for (int i = 0; i < count; i++)
            if (offered[i] == f) return f;
    }
    size_t k = (size_t)snprintf(err, errsz, "unsupported pixel format: the camera offers");
    for (int i = 0; i < count && k < errsz; i++) {
        char s[5];
        cam_fourcc_str(offered[i], s);
        k += (size_t)snprintf(err + k, errsz - k, " %s", s);
    }
    if (!count && k < errsz) k += (size_t)snprintf(err + k, errsz - k, " none");
    if (k < errsz)
        snprintf(err + k, errsz - k, "; mimovk-cam reads %s", only == V4L2_PIX_FMT_YUYV ? "YUYV"
                                                              : only ? "MJPG (or JPEG)"
                                                                     : "YUYV and MJPG (or JPEG)");
    return 0;
}

/* ---- V4L2 ---------------------------------------------------------------------------------- */

static int xioctl(int fd, unsigned long req, void *arg) {
    int r;
    do r = ioctl(fd, req, arg);
    while (r < 0 && errno == EINTR);
    return r;
}

static bool v4l2_open(cam_source *s, const char *path, const cam_source_opts *o, char *err, size_t errsz) {
    s->fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (s->fd < 0) {
        int e = errno;
        if (e == ENOENT)
            snprintf(err, errsz, "no camera at %s (is one plugged in? `ls /dev/video*`; without one, "
                                 "use --source DIR or --source FILE.y4m)", path);
        else if (e == EACCES)
            snprintf(err, errsz, "%s: permission denied (add your user to the 'video' group)", path);
        else if (e == EBUSY)
            snprintf(err, errsz, "%s: the camera is busy (another program is using it)", path);
        else snprintf(err, errsz, "%s: %s", path, strerror(e));
        return false;
    }
    struct v4l2_capability cap;
    memset(&cap, 0, sizeof cap);
    if (xioctl(s->fd, VIDIOC_QUERYCAP, &cap) < 0) {
        snprintf(err, errsz, "%s is not a V4L2 device (VIDIOC_QUERYCAP: %s)", path, strerror(errno));
        return false;
    }
    uint32_t caps = cap.capabilities & V4L2_CAP_DEVICE_CAPS ? cap.device_caps : cap.capabilities;
    if (!(caps & V4L2_CAP_VIDEO_CAPTURE) || !(caps & V4L2_CAP_STREAMING)) {
        snprintf(err, errsz, "%s (%s) is not a streaming video capture device (cameras often have a second "
                             "node for metadata: try another /dev/video*)", path, (const char *)cap.card);
        return false;
    }
    uint32_t offered[64];
    int count = 0;
    for (uint32_t i = 0; count < 64; i++) {
        struct v4l2_fmtdesc fd;
        memset(&fd, 0, sizeof fd);
        fd.index = i;
        fd.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
        if (xioctl(s->fd, VIDIOC_ENUM_FMT, &fd) < 0) break;
        offered[count++] = fd.pixelformat;
    }
    char why[256];
    uint32_t pick = cam_pick_format(offered, count, o->format, why, sizeof why);
    if (!pick) return snprintf(err, errsz, "%s: %s", path, why), false;
    struct v4l2_format fmt;
    memset(&fmt, 0, sizeof fmt);
    fmt.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    fmt.fmt.pix.width = (uint32_t)(o->width > 0 ? o->width : 640);
    fmt.fmt.pix.height = (uint32_t)(o->height > 0 ? o->height : 480);
    fmt.fmt.pix.pixelformat = pick;
    fmt.fmt.pix.field = V4L2_FIELD_ANY;
    if (xioctl(s->fd, VIDIOC_S_FMT, &fmt) < 0) {
        snprintf(err, errsz, "%s: VIDIOC_S_FMT: %s", path, strerror(errno));
        return false;
    }
    if (fmt.fmt.pix.pixelformat != pick) {
        char a[5], b[5];
        cam_fourcc_str(pick, a), cam_fourcc_str(fmt.fmt.pix.pixelformat, b);
        snprintf(err, errsz, "%s: asked for %s, the driver gives unsupported pixel format %s", path, a, b);
        return false;
    }
    s->fourcc = pick;
    s->w = (int)fmt.fmt.pix.width;
    s->h = (int)fmt.fmt.pix.height;
    s->stride = fmt.fmt.pix.bytesperline ? fmt.fmt.pix.bytesperline : (size_t)s->w * 2;
    if (s->w < 2 || s->h < 1 || s->w > 16384 || s->h > 16384 ||
        (pick == V4L2_PIX_FMT_YUYV && s->stride < (size_t)s->w * 2)) {
        snprintf(err, errsz, "%s: the driver reports an unusable frame size %dx%d", path, s->w, s->h);
        return false;
    }
    /* YUV from a camera is limited range unless the driver says full (or JPEG colorspace). */
    s->full_range = fmt.fmt.pix.quantization == V4L2_QUANTIZATION_FULL_RANGE ||
                    (fmt.fmt.pix.quantization == V4L2_QUANTIZATION_DEFAULT &&
                     fmt.fmt.pix.colorspace == V4L2_COLORSPACE_JPEG);
    struct v4l2_streamparm parm;
    memset(&parm, 0, sizeof parm);
    parm.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    if (xioctl(s->fd, VIDIOC_G_PARM, &parm) == 0 && parm.parm.capture.timeperframe.numerator)
        s->fps = (double)parm.parm.capture.timeperframe.denominator / parm.parm.capture.timeperframe.numerator;

    struct v4l2_requestbuffers req;
    memset(&req, 0, sizeof req);
    req.count = 4;
    req.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    req.memory = V4L2_MEMORY_MMAP;
    if (xioctl(s->fd, VIDIOC_REQBUFS, &req) < 0 || req.count < 2) {
        snprintf(err, errsz, "%s: cannot get capture buffers (VIDIOC_REQBUFS: %s)", path,
                 req.count < 2 && errno == 0 ? "fewer than 2" : strerror(errno));
        return false;
    }
    s->nbufs = req.count > 8 ? 8 : (int)req.count;
    for (int i = 0; i < s->nbufs; i++) {
        struct v4l2_buffer b;
        memset(&b, 0, sizeof b);
        b.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
        b.memory = V4L2_MEMORY_MMAP;
        b.index = (uint32_t)i;
        if (xioctl(s->fd, VIDIOC_QUERYBUF, &b) < 0) {
            snprintf(err, errsz, "%s: VIDIOC_QUERYBUF: %s", path, strerror(errno));
            return false;
        }
        void *p = mmap(NULL, b.length, PROT_READ | PROT_WRITE, MAP_SHARED, s->fd, b.m.offset);
        if (p == MAP_FAILED) {
            snprintf(err, errsz, "%s: mmap of a capture buffer: %s", path, strerror(errno));
            return false;
        }
        s->bufs[i] = (v4l2_buf){p, b.length};
        if (xioctl(s->fd, VIDIOC_QBUF, &b) < 0) {
            snprintf(err, errsz, "%s: VIDIOC_QBUF: %s", path, strerror(errno));
            return false;
        }
    }
    enum v4l2_buf_type type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    if (xioctl(s->fd, VIDIOC_STREAMON, &type) < 0) {
        snprintf(err, errsz, "%s: VIDIOC_STREAMON: %s", path, strerror(errno));
        return false;
    }
    s->streaming = true;
    char f4[5];
    cam_fourcc_str(pick, f4);
    snprintf(s->desc, sizeof s->desc, "camera %s (%s) %dx%d %s", path, (const char *)cap.card, s->w, s->h, f4);
    return true;
}

static cam_read v4l2_next(cam_source *s, cam_frame *f, atomic_bool *stop, char *err, size_t errsz) {
    double waited = 0;
    for (;;) {
        if (stop && atomic_load(stop)) return CAM_END;
        struct pollfd p = {.fd = s->fd, .events = POLLIN};
        int r = poll(&p, 1, 200);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return snprintf(err, errsz, "%s: poll: %s", s->path, strerror(errno)), CAM_ERROR;
        if (r == 0) {
            waited += 0.2;
            if (waited >= 5) return snprintf(err, errsz, "%s: no frame from the camera for 5 s", s->path), CAM_ERROR;
            continue;
        }
        if (p.revents & (POLLERR | POLLHUP | POLLNVAL) && !(p.revents & POLLIN))
            return snprintf(err, errsz, "%s: the camera was unplugged or stopped streaming", s->path), CAM_ERROR;
        struct v4l2_buffer b;
        memset(&b, 0, sizeof b);
        b.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
        b.memory = V4L2_MEMORY_MMAP;
        if (xioctl(s->fd, VIDIOC_DQBUF, &b) < 0) {
            if (errno == EAGAIN) continue;
            if (errno == ENODEV || errno == EIO)
                return snprintf(err, errsz, "%s: the camera was unplugged (%s)", s->path, strerror(errno)), CAM_ERROR;
            return snprintf(err, errsz, "%s: VIDIOC_DQBUF: %s", s->path, strerror(errno)), CAM_ERROR;
        }
        if (b.index >= (uint32_t)s->nbufs)
            return snprintf(err, errsz, "%s: the driver returned buffer %u of %d", s->path, b.index, s->nbufs), CAM_ERROR;
        const uint8_t *data = s->bufs[b.index].ptr;
        size_t used = b.bytesused ? b.bytesused : s->bufs[b.index].len;
        if (used > s->bufs[b.index].len) used = s->bufs[b.index].len;
        bool ok = false;
        char why[256] = "";
        if (b.flags & V4L2_BUF_FLAG_ERROR) snprintf(why, sizeof why, "the driver flagged the frame as corrupt");
        else if (s->fourcc == V4L2_PIX_FMT_YUYV) {
            if (used < s->stride * (size_t)(s->h - 1) + (size_t)s->w * 2)
                snprintf(why, sizeof why, "short YUYV frame (%zu bytes)", used);
            else if (!cam_frame_reserve(f, s->w, s->h)) snprintf(why, sizeof why, "out of memory");
            else {
                cam_yuyv_to_rgba(data, s->w, s->h, s->stride, s->full_range, f->rgba);
                ok = true;
            }
        } else ok = cam_mjpeg_decode(data, used, f, why, sizeof why);
        if (xioctl(s->fd, VIDIOC_QBUF, &b) < 0) {
            if (errno == ENODEV || errno == EIO)
                return snprintf(err, errsz, "%s: the camera was unplugged (%s)", s->path, strerror(errno)), CAM_ERROR;
            return snprintf(err, errsz, "%s: VIDIOC_QBUF: %s", s->path, strerror(errno)), CAM_ERROR;
        }
        if (!ok) {
            /* Cameras send the odd broken frame (above all while starting): skip a few. */
            if (++s->bad_frames >= 30)
                return snprintf(err, errsz, "%s: 30 unreadable frames in a row, the last: %s", s->path, why), CAM_ERROR;
            continue;
        }
        s->bad_frames = 0;
        return CAM_FRAME;
    }
}

static void v4l2_close(cam_source *s) {
    if (s->streaming) {
        enum v4l2_buf_type type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
        xioctl(s->fd, VIDIOC_STREAMOFF, &type);
    }
    for (int i = 0; i < s->nbufs; i++)
        if (s->bufs[i].ptr) munmap(s->bufs[i].ptr, s->bufs[i].len);
    if (s->fd >= 0) close(s->fd);
}

/* ---- directory ----------------------------------------------------------------------------- */

static bool image_name(const char *n) {
    const char *dot = strrchr(n, '.');
    if (!dot || n[0] == '.') return false;
    static const char *ext[] = {".png", ".jpg", ".jpeg", ".bmp", ".pgm", ".ppm", ".pnm"};
    for (size_t i = 0; i < sizeof ext / sizeof *ext; i++)
        if (!strcasecmp(dot, ext[i])) return true;
    return false;
}

static int cmp_names(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static bool dir_open(cam_source *s, const char *path, char *err, size_t errsz) {
    DIR *d = opendir(path);
    if (!d) return snprintf(err, errsz, "%s: %s", path, strerror(errno)), false;
    int cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!image_name(e->d_name) || strlen(e->d_name) >= sizeof ((cam_frame *)0)->name) continue;
        if (s->nnames == cap) {
            cap = cap ? cap * 2 : 64;
            char **p = realloc(s->names, (size_t)cap * sizeof *p);
            if (!p) break;
            s->names = p;
        }
        if (!(s->names[s->nnames] = strdup(e->d_name))) break;
        s->nnames++;
    }
    closedir(d);
    if (!s->nnames)
        return snprintf(err, errsz, "%s: no images (PNG, JPEG, BMP, PGM/PPM) in this directory", path), false;
    qsort(s->names, (size_t)s->nnames, sizeof *s->names, cmp_names);
    snprintf(s->desc, sizeof s->desc, "directory %s (%d images)", path, s->nnames);
    return true;
}

static cam_read dir_next(cam_source *s, cam_frame *f, char *err, size_t errsz) {
    if (s->pos == s->nnames) {
        if (!s->loop) return CAM_END;
        s->pos = 0;
    }
    const char *name = s->names[s->pos++];
    char full[2048];
    snprintf(full, sizeof full, "%s/%s", s->path, name);
    uint8_t *raw = NULL;
    size_t size = 0;
    mvk_image im;
    char why[512];
    mvk_status st = mvk_file_read(full, &raw, &size, why, sizeof why);
    if (st == MVK_OK) st = mvk_image_decode(raw, size, 4, &im, why, sizeof why);
    mvk_file_free(raw);
    if (st != MVK_OK) return snprintf(err, errsz, "%s: %s", full, why), CAM_ERROR;
    bool ok = cam_frame_reserve(f, im.w, im.h);
    if (ok) memcpy(f->rgba, im.pixels, (size_t)im.w * im.h * 4);
    mvk_image_free(&im);
    if (!ok) return snprintf(err, errsz, "%s: out of memory", full), CAM_ERROR;
    snprintf(f->name, sizeof f->name, "%s", name);
    return CAM_FRAME;
}

/* ---- Y4M ----------------------------------------------------------------------------------- */

bool cam_y4m_parse_header(const char *line, cam_y4m_header *h, char *err, size_t errsz) {
    memset(h, 0, sizeof *h);
    if (strncmp(line, "YUV4MPEG2", 9) || (line[9] && line[9] != ' '))
        return snprintf(err, errsz, "not a Y4M file (no YUV4MPEG2 signature)"), false;
    snprintf(h->chroma, sizeof h->chroma, "420jpeg");
    h->sx = h->sy = 2;
    const char *p = line + 9;
    while (*p) {
        while (*p == ' ') p++;
        if (!*p) break;
        const char *end = strchr(p, ' ');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        char tok[64];
        if (len >= sizeof tok) return snprintf(err, errsz, "Y4M header field too long"), false;
        memcpy(tok, p, len);
        tok[len] = 0;
        char *e = NULL;
        switch (tok[0]) {
        case 'W': h->w = (int)strtol(tok + 1, &e, 10); break;
        case 'H': h->h = (int)strtol(tok + 1, &e, 10); break;
        case 'F': {
            long num = strtol(tok + 1, &e, 10), den = 1;
            if (*e == ':') den = strtol(e + 1, &e, 10);
            if (num > 0 && den > 0) h->fps = (double)num / den;
            break;
        }
        case 'C':
            snprintf(h->chroma, sizeof h->chroma, "%s", tok + 1);
            if (!strncmp(tok + 1, "420", 3) && (!tok[4] || !strcmp(tok + 4, "jpeg") || !strcmp(tok + 4, "paldv") ||
                                                 !strcmp(tok + 4, "mpeg2")))
                h->sx = h->sy = 2;
            else if (!strcmp(tok + 1, "422")) h->sx = 2, h->sy = 1;
            else if (!strcmp(tok + 1, "444")) h->sx = h->sy = 1;
            else if (!strcmp(tok + 1, "mono")) h->sx = h->sy = 0;
            else
                return snprintf(err, errsz, "unsupported Y4M colour space C%s (mimovk-cam reads 8-bit 420, 422, "
                                            "444 and mono)", tok + 1), false;
            break;
        case 'X':
            if (!strcmp(tok, "XCOLORRANGE=FULL")) h->full = true;
            break;
        default: break; /* I (interlacing), A (aspect), other X fields: not needed */
        }
        if (e && *e) return snprintf(err, errsz, "malformed Y4M header field '%s'", tok), false;
        p += len;
    }
    if (h->w < 1 || h->h < 1 || h->w > 16384 || h->h > 16384)
        return snprintf(err, errsz, "Y4M header without a valid size (W%d H%d)", h->w, h->h), false;
    return true;
}

static bool y4m_open(cam_source *s, const char *path, char *err, size_t errsz) {
    s->fp = fopen(path, "rb");
    if (!s->fp) return snprintf(err, errsz, "%s: %s", path, strerror(errno)), false;
    char line[1024];
    if (!fgets(line, sizeof line, s->fp) || !strchr(line, '\n'))
        return snprintf(err, errsz, "%s: no Y4M header line", path), false;
    *strchr(line, '\n') = 0;
    char why[256];
    if (!cam_y4m_parse_header(line, &s->y4m, why, sizeof why)) return snprintf(err, errsz, "%s: %s", path, why), false;
    s->data_start = ftell(s->fp);
    const cam_y4m_header *h = &s->y4m;
    size_t luma = (size_t)h->w * h->h, chroma = h->sx ? (size_t)((h->w + h->sx - 1) / h->sx) * ((h->h + h->sy - 1) / h->sy) : 0;
    s->plane_bytes = luma + 2 * chroma;
    s->plane = malloc(s->plane_bytes);
    if (!s->plane) return snprintf(err, errsz, "out of memory"), false;
    s->fps = h->fps;
    snprintf(s->desc, sizeof s->desc, "y4m %s %dx%d C%s%s %.3g fps", path, h->w, h->h, h->chroma,
             h->full ? " full range" : "", h->fps);
    return true;
}

static cam_read y4m_next(cam_source *s, cam_frame *f, char *err, size_t errsz) {
    char line[256];
    if (!fgets(line, sizeof line, s->fp)) {
        if (ferror(s->fp)) return snprintf(err, errsz, "%s: read error: %s", s->path, strerror(errno)), CAM_ERROR;
        if (!s->loop || s->next_index == 0) return CAM_END;
        if (fseek(s->fp, s->data_start, SEEK_SET) != 0 || !fgets(line, sizeof line, s->fp))
            return snprintf(err, errsz, "%s: cannot rewind", s->path), CAM_ERROR;
    }
    if (strncmp(line, "FRAME", 5) || !strchr(line, '\n'))
        return snprintf(err, errsz, "%s: frame %llu: no FRAME marker (malformed or truncated file)", s->path,
                        (unsigned long long)s->next_index), CAM_ERROR;
    if (fread(s->plane, 1, s->plane_bytes, s->fp) != s->plane_bytes)
        return snprintf(err, errsz, "%s: frame %llu is truncated (the file ends inside it)", s->path,
                        (unsigned long long)s->next_index), CAM_ERROR;
    const cam_y4m_header *h = &s->y4m;
    if (!cam_frame_reserve(f, h->w, h->h)) return snprintf(err, errsz, "out of memory"), CAM_ERROR;
    size_t luma = (size_t)h->w * h->h, chroma = h->sx ? (size_t)((h->w + h->sx - 1) / h->sx) * ((h->h + h->sy - 1) / h->sy) : 0;
    cam_yuv_planar_to_rgba(s->plane, h->sx ? s->plane + luma : NULL, h->sx ? s->plane + luma + chroma : NULL, h->w, h->h,
                           h->sx ? h->sx : 1, h->sy ? h->sy : 1, h->full, f->rgba);
    return CAM_FRAME;
}

/* ---- common -------------------------------------------------------------------------------- */

bool cam_source_open(const char *spec, const cam_source_opts *o, cam_source **out, char *err, size_t errsz) {
    *out = NULL;
    cam_source *s = calloc(1, sizeof *s);
    if (!s) return snprintf(err, errsz, "out of memory"), false;
    s->fd = -1;
    s->loop = o->loop;
    snprintf(s->path, sizeof s->path, "%s", spec);
    struct stat st;
    bool ok, exists = stat(spec, &st) == 0;
    size_t len = strlen(spec);
    if (!strncmp(spec, "/dev/", 5)) s->kind = SRC_V4L2, ok = v4l2_open(s, spec, o, err, errsz);
    else if (exists && S_ISDIR(st.st_mode)) s->kind = SRC_DIR, ok = dir_open(s, spec, err, errsz);
    else if (len > 4 && !strcasecmp(spec + len - 4, ".y4m")) s->kind = SRC_Y4M, ok = y4m_open(s, spec, err, errsz);
    else {
        snprintf(err, errsz, "%s: %s", spec, !exists ? "no such file or directory"
                                                     : "not a camera (/dev/video*), a directory of images or a .y4m file");
        ok = false;
    }
    if (!ok) {
        cam_source_close(s);
        return false;
    }
    *out = s;
    return true;
}

cam_read cam_source_next(cam_source *s, cam_frame *f, atomic_bool *stop, char *err, size_t errsz) {
    if (stop && atomic_load(stop)) return CAM_END;
    f->name[0] = 0;
    cam_read r = s->kind == SRC_V4L2 ? v4l2_next(s, f, stop, err, errsz)
                 : s->kind == SRC_DIR ? dir_next(s, f, err, errsz)
                                      : y4m_next(s, f, err, errsz);
    if (r == CAM_FRAME) {
        f->index = s->next_index++;
        f->t_capture = app_now();
    }
    return r;
}

const char *cam_source_describe(const cam_source *s) { return s->desc; }
double cam_source_fps(const cam_source *s) { return s->fps; }
bool cam_source_is_camera(const cam_source *s) { return s->kind == SRC_V4L2; }

void cam_source_close(cam_source *s) {
    if (!s) return;
    if (s->kind == SRC_V4L2) v4l2_close(s);
    for (int i = 0; i < s->nnames; i++) free(s->names[i]);
    free(s->names);
    if (s->fp) fclose(s->fp);
    free(s->plane);
    free(s);
}
