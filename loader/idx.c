#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <zlib.h>

#include "internal.h"
#include "io.h"

void mvk_idx_free(mvk_idx *x) {
    if (!x) return;
    mvk_free(x->data);
    memset(x, 0, sizeof *x);
}

mvk_status mvk_idx_parse(const uint8_t *b, size_t size, mvk_idx *out, char *err, size_t errsz) {
    memset(out, 0, sizeof *out);
    if (size < 4 || b[0] || b[1]) return snprintf(err, errsz, "not an IDX file (bad magic)"), MVK_ERR_FORMAT;
    if (b[2] != 0x08) return snprintf(err, errsz, "IDX type 0x%02x is not unsigned byte", b[2]), MVK_ERR_FORMAT;
    int nd = b[3];
    if (nd < 1 || nd > 4) return snprintf(err, errsz, "IDX with %d dimensions", nd), MVK_ERR_FORMAT;
    if (size < 4 + 4 * (size_t)nd) return snprintf(err, errsz, "truncated IDX header"), MVK_ERR_FORMAT;
    uint64_t count = 1;
    for (int i = 0; i < nd; i++) {
        const uint8_t *p = b + 4 + 4 * i;
        uint32_t v = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
        out->shape[i] = v;
        count *= v;
        if (count > (1ull << 36)) return snprintf(err, errsz, "IDX shape is absurd"), MVK_ERR_FORMAT;
    }
    out->ndim = nd;
    size_t off = 4 + 4 * (size_t)nd;
    if (count > size - off)
        return snprintf(err, errsz, "IDX data truncated: %llu bytes announced, %zu present",
                        (unsigned long long)count, size - off), MVK_ERR_FORMAT;
    out->data = mvk_malloc(count ? count : 1);
    if (!out->data) return snprintf(err, errsz, "out of memory"), MVK_ERR_OUT_OF_HOST_MEMORY;
    memcpy(out->data, b + off, count);
    return MVK_OK;
}

mvk_status mvk_idx_read(const char *path, mvk_idx *out, char *err, size_t errsz) {
    memset(out, 0, sizeof *out);
    gzFile f = gzopen(path, "rb"); /* reads gzip and plain files alike */
    if (!f) return snprintf(err, errsz, "cannot open %s: %s", path, strerror(errno)), MVK_ERR_IO;
    size_t cap = 1 << 20, n = 0;
    uint8_t *b = mvk_malloc(cap);
    int r = 0;
    while (b && (r = gzread(f, b + n, (unsigned)(cap - n))) > 0) {
        n += (size_t)r;
        if (n == cap) {
            uint8_t *nb = cap > (1ull << 36) ? NULL : mvk_realloc(b, cap * 2);
            if (!nb) mvk_free(b);
            b = nb;
            cap *= 2;
        }
    }
    int gzerr = 0;
    const char *gzmsg = gzerror(f, &gzerr);
    char msg[128];
    snprintf(msg, sizeof msg, "%s", gzmsg ? gzmsg : "");
    gzclose(f);
    if (!b) return snprintf(err, errsz, "out of memory reading %s", path), MVK_ERR_OUT_OF_HOST_MEMORY;
    if (r < 0) {
        mvk_free(b);
        return snprintf(err, errsz, "%s: corrupt gzip data (%s)", path, msg), MVK_ERR_FORMAT;
    }
    char e2[256] = "";
    mvk_status s = mvk_idx_parse(b, n, out, e2, sizeof e2);
    if (s != MVK_OK) snprintf(err, errsz, "%s: %s", path, e2);
    mvk_free(b);
    return s;
}
