#include "safetensors.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* The safetensors reference refuses headers above 100 MB; so do we. */
#define MAX_HEADER (100u << 20)

static const struct {
    const char *name;
    unsigned size;
} dtypes[MVK_DT_COUNT] = {
    [MVK_DT_F32] = {"F32", 4}, [MVK_DT_F16] = {"F16", 2}, [MVK_DT_BF16] = {"BF16", 2},
    [MVK_DT_F64] = {"F64", 8}, [MVK_DT_I64] = {"I64", 8}, [MVK_DT_I32] = {"I32", 4},
    [MVK_DT_I16] = {"I16", 2}, [MVK_DT_I8] = {"I8", 1},   [MVK_DT_U8] = {"U8", 1},
    [MVK_DT_BOOL] = {"BOOL", 1},
};

const char *mvk_st_dtype_str(int dtype) {
    return dtype >= 0 && dtype < MVK_DT_COUNT ? dtypes[dtype].name : "?";
}

static pthread_once_t json_once = PTHREAD_ONCE_INIT;
static void json_hooks(void) {
    cJSON_Hooks h = {mvk_malloc, mvk_free};
    cJSON_InitHooks(&h);
}
void mvk_json_init(void) { pthread_once(&json_once, json_hooks); }

static bool valid_utf8(const uint8_t *s, size_t n) {
    for (size_t i = 0; i < n;) {
        uint8_t c = s[i];
        size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        if (!len || i + len > n) return false;
        for (size_t k = 1; k < len; k++)
            if ((s[i + k] & 0xc0) != 0x80) return false;
        i += len;
    }
    return true;
}

static int cmp_begin(const void *a, const void *b) {
    const mvk_st_tensor *x = *(const mvk_st_tensor *const *)a, *y = *(const mvk_st_tensor *const *)b;
    return x->begin < y->begin ? -1 : x->begin > y->begin;
}

static mvk_status parse_tensor(mvk_ctx *ctx, const cJSON *item, uint64_t data_size, mvk_st_tensor *t) {
    const char *name = item->string;
    if (!cJSON_IsObject(item))
        return mvk_fail(ctx, MVK_ERR_FORMAT, "tensor %s: header entry is not an object", name);
    const cJSON *dt = cJSON_GetObjectItemCaseSensitive(item, "dtype");
    const cJSON *shape = cJSON_GetObjectItemCaseSensitive(item, "shape");
    const cJSON *offs = cJSON_GetObjectItemCaseSensitive(item, "data_offsets");
    if (!cJSON_IsString(dt) || !cJSON_IsArray(shape) || !cJSON_IsArray(offs))
        return mvk_fail(ctx, MVK_ERR_FORMAT, "tensor %s: needs dtype, shape and data_offsets", name);
    t->dtype = -1;
    for (int i = 0; i < MVK_DT_COUNT; i++)
        if (!strcmp(dt->valuestring, dtypes[i].name)) t->dtype = i;
    if (t->dtype < 0)
        return mvk_fail(ctx, MVK_ERR_FORMAT, "tensor %s: unknown dtype \"%.32s\"", name, dt->valuestring);
    int nd = cJSON_GetArraySize(shape);
    if (nd > 8) return mvk_fail(ctx, MVK_ERR_FORMAT, "tensor %s: %d dimensions (at most 8)", name, nd);
    t->ndim = nd;
    uint64_t count = 1;
    int i = 0;
    for (const cJSON *d = shape->child; d; d = d->next, i++) {
        if (!cJSON_IsNumber(d) || d->valuedouble < 0 || d->valuedouble > 9.0e15 ||
            d->valuedouble != (double)(int64_t)d->valuedouble)
            return mvk_fail(ctx, MVK_ERR_FORMAT, "tensor %s: dimension %d is not a non-negative integer",
                            name, i);
        t->shape[i] = (int64_t)d->valuedouble;
        if (t->shape[i] && count > UINT64_MAX / 16 / (uint64_t)t->shape[i])
            return mvk_fail(ctx, MVK_ERR_FORMAT, "tensor %s: absurd shape", name);
        count *= (uint64_t)t->shape[i];
    }
    if (cJSON_GetArraySize(offs) != 2 || !cJSON_IsNumber(offs->child) || !cJSON_IsNumber(offs->child->next))
        return mvk_fail(ctx, MVK_ERR_FORMAT, "tensor %s: data_offsets must be [begin, end]", name);
    double b = offs->child->valuedouble, e = offs->child->next->valuedouble;
    if (b < 0 || e < 0 || b > 9.0e15 || e > 9.0e15 || b != (double)(uint64_t)b || e != (double)(uint64_t)e)
        return mvk_fail(ctx, MVK_ERR_FORMAT, "tensor %s: data_offsets are not non-negative integers", name);
    t->begin = (uint64_t)b;
    t->end = (uint64_t)e;
    if (t->begin > t->end)
        return mvk_fail(ctx, MVK_ERR_FORMAT, "tensor %s: data_offsets begin %llu > end %llu", name,
                        (unsigned long long)t->begin, (unsigned long long)t->end);
    if (t->end > data_size)
        return mvk_fail(ctx, MVK_ERR_FORMAT,
                        "tensor %s: data_offsets end %llu is past the end of the data (%llu bytes)",
                        name, (unsigned long long)t->end, (unsigned long long)data_size);
    if (count * dtypes[t->dtype].size != t->end - t->begin)
        return mvk_fail(ctx, MVK_ERR_FORMAT,
                        "tensor %s: shape and dtype %s need %llu bytes but data_offsets span %llu",
                        name, dtypes[t->dtype].name, (unsigned long long)(count * dtypes[t->dtype].size),
                        (unsigned long long)(t->end - t->begin));
    t->name = mvk_strdup(name);
    if (!t->name) return mvk_fail(ctx, MVK_ERR_OUT_OF_HOST_MEMORY, "tensor names");
    return MVK_OK;
}

mvk_status mvk_st_parse(mvk_ctx *ctx, const uint8_t *bytes, size_t size, mvk_st_file *out) {
    memset(out, 0, sizeof *out);
    mvk_json_init();
    out->bytes = bytes;
    out->size = size;
    if (size < 8)
        return mvk_fail(ctx, MVK_ERR_FORMAT, "truncated: %zu bytes, shorter than the 8-byte header length",
                        size);
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--) hlen = (hlen << 8) | bytes[i];
    if (hlen > size - 8)
        return mvk_fail(ctx, MVK_ERR_FORMAT,
                        "header length %llu is larger than the rest of the file (%zu bytes): "
                        "truncated file or lying header length",
                        (unsigned long long)hlen, size - 8);
    if (hlen < 2 || hlen > MAX_HEADER)
        return mvk_fail(ctx, MVK_ERR_FORMAT, "header length %llu is implausible", (unsigned long long)hlen);
    const char *hdr = (const char *)bytes + 8;
    if (!valid_utf8((const uint8_t *)hdr, hlen))
        return mvk_fail(ctx, MVK_ERR_FORMAT, "header is not valid UTF-8");
    const char *end = NULL;
    out->root = cJSON_ParseWithLengthOpts(hdr, hlen, &end, 0);
    if (!out->root) {
        size_t at = end && end >= hdr ? (size_t)(end - hdr) : 0;
        return mvk_fail(ctx, MVK_ERR_FORMAT, "header is not valid JSON (error near byte %zu)", at);
    }
    /* Trailing bytes in the header may only be spaces (the format pads with them). */
    for (const char *p = end; p && p < hdr + hlen; p++)
        if (*p != ' ' && *p != '\n' && *p != '\t' && *p != '\r' && *p != 0) {
            mvk_st_close(out);
            return mvk_fail(ctx, MVK_ERR_FORMAT, "header has bytes after its JSON object");
        }
    if (!cJSON_IsObject(out->root)) {
        mvk_st_close(out);
        return mvk_fail(ctx, MVK_ERR_FORMAT, "header is not a JSON object");
    }
    out->data = bytes + 8 + hlen;
    out->data_size = size - 8 - hlen;
    int n = 0;
    for (const cJSON *it = out->root->child; it; it = it->next) n++;
    out->tensors = mvk_calloc((size_t)n + 1, sizeof *out->tensors);
    mvk_st_tensor **sorted = mvk_calloc((size_t)n + 1, sizeof *sorted);
    mvk_status s = MVK_OK;
    if (!out->tensors || !sorted) s = mvk_fail(ctx, MVK_ERR_OUT_OF_HOST_MEMORY, "tensor table");
    for (const cJSON *it = out->root->child; it && s == MVK_OK; it = it->next) {
        if (!it->string) {
            s = mvk_fail(ctx, MVK_ERR_FORMAT, "header entry without a name");
        } else if (!strcmp(it->string, "__metadata__")) {
            if (!cJSON_IsObject(it)) s = mvk_fail(ctx, MVK_ERR_FORMAT, "__metadata__ is not an object");
            out->metadata = it;
        } else {
            if (mvk_st_find(out, it->string))
                s = mvk_fail(ctx, MVK_ERR_FORMAT, "tensor %s appears twice", it->string);
            else if ((s = parse_tensor(ctx, it, out->data_size, &out->tensors[out->ntensors])) == MVK_OK)
                out->ntensors++;
        }
    }
    /* No two tensors may share bytes. */
    for (int i = 0; i < out->ntensors && s == MVK_OK; i++) sorted[i] = &out->tensors[i];
    if (s == MVK_OK) qsort(sorted, (size_t)out->ntensors, sizeof *sorted, cmp_begin);
    for (int i = 1; i < out->ntensors && s == MVK_OK; i++) {
        const mvk_st_tensor *a = sorted[i - 1], *b = sorted[i];
        if (a->end > b->begin && a->end > a->begin && b->end > b->begin)
            s = mvk_fail(ctx, MVK_ERR_FORMAT, "tensors %s and %s overlap (bytes %llu-%llu and %llu-%llu)",
                         a->name, b->name, (unsigned long long)a->begin, (unsigned long long)a->end,
                         (unsigned long long)b->begin, (unsigned long long)b->end);
    }
    mvk_free(sorted);
    if (s != MVK_OK) mvk_st_close(out);
    return s;
}

mvk_status mvk_st_open(mvk_ctx *ctx, const char *path, mvk_st_file *out) {
    memset(out, 0, sizeof *out);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return mvk_fail(ctx, MVK_ERR_IO, "cannot open %s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return mvk_fail(ctx, MVK_ERR_IO, "%s is not a regular file", path);
    }
    if (st.st_size == 0) {
        close(fd);
        return mvk_fail(ctx, MVK_ERR_FORMAT, "%s: truncated: the file is empty", path);
    }
    void *map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (map == MAP_FAILED) return mvk_fail(ctx, MVK_ERR_IO, "cannot map %s: %s", path, strerror(errno));
    mvk_status s = mvk_st_parse(ctx, map, (size_t)st.st_size, out);
    if (s != MVK_OK) {
        munmap(map, (size_t)st.st_size);
        return mvk_fail(ctx, s, "%s: %s", path, ctx ? ctx->error : "");
    }
    out->mapped = true;
    return MVK_OK;
}

void mvk_st_close(mvk_st_file *f) {
    if (!f) return;
    for (int i = 0; i < f->ntensors; i++) mvk_free(f->tensors[i].name);
    mvk_free(f->tensors);
    cJSON_Delete(f->root);
    if (f->mapped) munmap((void *)f->bytes, f->size);
    memset(f, 0, sizeof *f);
}

const mvk_st_tensor *mvk_st_find(const mvk_st_file *f, const char *name) {
    for (int i = 0; i < f->ntensors; i++)
        if (!strcmp(f->tensors[i].name, name)) return &f->tensors[i];
    return NULL;
}

const char *mvk_st_meta(const mvk_st_file *f, const char *key) {
    const cJSON *v = f->metadata ? cJSON_GetObjectItemCaseSensitive(f->metadata, key) : NULL;
    return cJSON_IsString(v) ? v->valuestring : NULL;
}
