/* --headless output: annotated PNGs (written to a temporary name and renamed) and a JSON-lines
 * log (written to LOG.part, renamed to LOG when the run ends cleanly). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <stb_image_write.h>

#include "cam.h"
#include "util_app.h"

bool cam_write_png(const char *path, const cam_canvas *c, char *err, size_t errsz) {
    char tmp[1100];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    /* Annotated frames are many: one fixed filter (Sub) instead of stb's per-row search over all
     * five, and light deflate. */
    stbi_write_png_compression_level = 2;
    stbi_write_force_png_filter = 1;
    if (!stbi_write_png(tmp, c->w, c->h, 4, c->px, c->w * 4)) {
        snprintf(err, errsz, "%s: cannot write the PNG (%s)", tmp, strerror(errno ? errno : EIO));
        unlink(tmp);
        return false;
    }
    if (rename(tmp, path) != 0) {
        snprintf(err, errsz, "%s: %s", path, strerror(errno));
        unlink(tmp);
        return false;
    }
    return true;
}

bool cam_log_open(cam_log *l, const char *path, char *err, size_t errsz) {
    memset(l, 0, sizeof *l);
    snprintf(l->path, sizeof l->path, "%s", path);
    snprintf(l->part, sizeof l->part, "%s.part", path);
    l->fp = fopen(l->part, "w");
    if (!l->fp) return snprintf(err, errsz, "%s: %s", l->part, strerror(errno)), false;
    return true;
}

bool cam_log_pass(cam_log *l, const cam_pass *p, const mvk_model_info *info, const char *png_dir) {
    FILE *fp = l->fp;
    if (!fp) return false;
    for (int i = 0; i < p->n; i++) {
        const cam_frame *f = &p->frame[i];
        const cam_label *lb = &p->label[i];
        fprintf(fp, "{\"frame\": %llu, \"file\": %s, \"class\": %d, \"label\": %s, \"confidence\": %.6f, "
                    "\"n\": %d, \"requested_n\": %d, \"pass\": %llu, \"preprocess_ms\": %.3f, \"run_ms\": %.3f, "
                    "\"latency_ms\": %.3f",
                (unsigned long long)f->index, app_json_str(f->name), lb->cls,
                app_json_str(info->labels && lb->cls < info->num_classes ? info->labels[lb->cls] : ""),
                lb->confidence, p->n, p->requested_n, (unsigned long long)p->seq, p->preprocess_ms, p->run_ms,
                (p->t_done - f->t_capture) * 1e3);
        if (png_dir) fprintf(fp, ", \"png\": \"frame-%06llu.png\"", (unsigned long long)f->index);
        fprintf(fp, "}\n");
    }
    return fflush(fp) == 0 && !ferror(fp);
}

bool cam_log_close(cam_log *l, char *err, size_t errsz) {
    if (!l->fp) return true;
    bool ok = !ferror((FILE *)l->fp);
    ok = fclose(l->fp) == 0 && ok;
    l->fp = NULL;
    if (!ok) {
        snprintf(err, errsz, "%s: write error", l->part);
        unlink(l->part);
        return false;
    }
    if (rename(l->part, l->path) != 0) {
        snprintf(err, errsz, "%s: %s", l->path, strerror(errno));
        unlink(l->part);
        return false;
    }
    return true;
}
