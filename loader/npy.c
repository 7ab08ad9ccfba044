#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "io.h"

#define FAIL(...) (snprintf(err, errsz, __VA_ARGS__), MVK_ERR_FORMAT)

void mvk_array_free(mvk_array *a) {
    if (!a) return;
    mvk_free(a->data);
    memset(a, 0, sizeof *a);
}

/* Finds "'key': " in the header dict and returns the text after it. */
static const char *dict_value(const char *hdr, const char *key) {
    char pat[32];
    snprintf(pat, sizeof pat, "'%s':", key);
    const char *p = strstr(hdr, pat);
    if (!p) return NULL;
    p += strlen(pat);
    while (*p == ' ') p++;
    return p;
}

mvk_status mvk_npy_parse(const uint8_t *b, size_t size, mvk_array *out, char *err, size_t errsz) {
    memset(out, 0, sizeof *out);
    if (size < 10 || memcmp(b, "\x93NUMPY", 6)) return FAIL("not a .npy file (bad magic)");
    unsigned major = b[6];
    size_t hlen, off;
    if (major == 1) hlen = b[8] | (size_t)b[9] << 8, off = 10;
    else if (major == 2 || major == 3) {
        if (size < 12) return FAIL("truncated .npy header");
        hlen = b[8] | (size_t)b[9] << 8 | (size_t)b[10] << 16 | (size_t)b[11] << 24, off = 12;
    } else return FAIL(".npy version %u is not supported", major);
    if (hlen > size - off || hlen > 65536) return FAIL("truncated .npy header (%zu bytes announced)", hlen);
    char hdr[65537];
    memcpy(hdr, b + off, hlen);
    hdr[hlen] = 0;
    if (memchr(hdr, 0, hlen)) return FAIL(".npy header contains a NUL byte");
    const char *descr = dict_value(hdr, "descr");
    const char *fo = dict_value(hdr, "fortran_order");
    const char *shape = dict_value(hdr, "shape");
    if (!descr || !fo || !shape) return FAIL(".npy header lacks descr, fortran_order or shape");
    int dsize;
    bool u8;
    if (!strncmp(descr, "'<f4'", 5)) dsize = 4, u8 = false;
    else if (!strncmp(descr, "'|u1'", 5)) dsize = 1, u8 = true;
    else return FAIL(".npy dtype %.8s is not float32 ('<f4') or uint8", descr);
    if (strncmp(fo, "False", 5)) return FAIL(".npy data in Fortran order is not supported");
    if (*shape != '(') return FAIL(".npy shape is not a tuple");
    const char *p = shape + 1;
    uint64_t count = 1;
    out->ndim = 0;
    while (*p && *p != ')') {
        while (*p == ' ' || *p == ',') p++;
        if (*p == ')') break;
        char *end;
        errno = 0;
        long long v = strtoll(p, &end, 10);
        if (end == p || errno || v < 0 || v > (1ll << 40)) return FAIL(".npy shape has a bad dimension");
        if (out->ndim == 8) return FAIL(".npy shape has more than 8 dimensions");
        out->shape[out->ndim++] = v;
        if (v && count > (UINT64_MAX >> 8) / (uint64_t)v) return FAIL(".npy shape is absurd");
        count *= (uint64_t)v;
        p = end;
    }
    if (*p != ')') return FAIL(".npy shape tuple is not closed");
    size_t data_off = off + hlen;
    if (count > (size - data_off) / (size_t)dsize)
        return FAIL(".npy data truncated: shape needs %llu values, the file holds %zu", (unsigned long long)count,
                    (size - data_off) / (size_t)dsize);
    out->data = mvk_malloc((size_t)(count ? count : 1) * sizeof(float));
    if (!out->data) return snprintf(err, errsz, "out of memory"), MVK_ERR_OUT_OF_HOST_MEMORY;
    const uint8_t *d = b + data_off;
    for (uint64_t i = 0; i < count; i++) {
        if (u8) out->data[i] = d[i];
        else memcpy(&out->data[i], d + i * 4, 4);
    }
    return MVK_OK;
}

mvk_status mvk_file_read(const char *path, uint8_t **buf, size_t *size, char *err, size_t errsz) {
    FILE *f = fopen(path, "rb");
    if (!f) return snprintf(err, errsz, "cannot open %s: %s", path, strerror(errno)), MVK_ERR_IO;
    size_t cap = 1 << 16, n = 0;
    uint8_t *b = mvk_malloc(cap);
    for (size_t r; b && (r = fread(b + n, 1, cap - n, f)) > 0;) {
        n += r;
        if (n == cap) {
            uint8_t *nb = cap > (SIZE_MAX >> 2) ? NULL : mvk_realloc(b, cap * 2);
            if (!nb) mvk_free(b);
            b = nb;
            cap *= 2;
        }
    }
    bool bad = ferror(f);
    fclose(f);
    if (!b) return snprintf(err, errsz, "out of memory reading %s", path), MVK_ERR_OUT_OF_HOST_MEMORY;
    if (bad) {
        mvk_free(b);
        return snprintf(err, errsz, "cannot read %s", path), MVK_ERR_IO;
    }
    *buf = b;
    *size = n;
    return MVK_OK;
}

mvk_status mvk_npy_read(const char *path, mvk_array *out, char *err, size_t errsz) {
    uint8_t *b;
    size_t n;
    memset(out, 0, sizeof *out);
    MVK_TRY(mvk_file_read(path, &b, &n, err, errsz));
    char e2[512] = "";
    mvk_status s = mvk_npy_parse(b, n, out, e2, sizeof e2);
    if (s != MVK_OK) snprintf(err, errsz, "%s: %s", path, e2);
    mvk_free(b);
    return s;
}

mvk_status mvk_npy_write(const char *path, const float *data, int ndim, const int64_t *shape, char *err,
                         size_t errsz) {
    char dict[256], shp[160] = "";
    uint64_t count = 1;
    for (int i = 0; i < ndim; i++) {
        snprintf(shp + strlen(shp), sizeof shp - strlen(shp), "%lld%s", (long long)shape[i],
                 ndim == 1 ? "," : i + 1 < ndim ? ", " : "");
        count *= (uint64_t)shape[i];
    }
    int len = snprintf(dict, sizeof dict, "{'descr': '<f4', 'fortran_order': False, 'shape': (%s), }", shp);
    /* Pad with spaces so magic + header is a multiple of 64 bytes, ending in a newline. */
    int total = (10 + len + 1 + 63) / 64 * 64;
    uint16_t hlen = (uint16_t)(total - 10);
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "wb");
    if (!f) return snprintf(err, errsz, "cannot write %s: %s", tmp, strerror(errno)), MVK_ERR_IO;
    uint8_t pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (uint8_t)(hlen & 0xff), (uint8_t)(hlen >> 8)};
    bool ok = fwrite(pre, 1, 10, f) == 10 && fwrite(dict, 1, (size_t)len, f) == (size_t)len;
    for (int i = 10 + len; ok && i < total - 1; i++) ok = fputc(' ', f) != EOF;
    ok = ok && fputc('\n', f) != EOF && fwrite(data, 4, count, f) == count;
    ok = (fclose(f) == 0) && ok;
    if (!ok || rename(tmp, path) != 0) {
        int e = errno;
        remove(tmp);
        return snprintf(err, errsz, "cannot write %s: %s", path, strerror(e)), MVK_ERR_IO;
    }
    return MVK_OK;
}
