#include "tiny_model.h"

#include "harness.h"

#include <stdio.h>
#include <stdlib.h>

/* Tiny model: 1x4x4 input, conv 1->2 (3x3, pad 1, bias, relu), superpose (capacity 2),
 * global average pool, unbind linear 2->4 + relu, unsuperpose, fc 2->3. */
enum { CONV_W, CONV_B, SUP1, SUP2, UNB_W, UNB_B, FC_W, FC_B, NT };
static const char *names[NT] = {"conv.w", "conv.b", "sup.1", "sup.2", "unbind.w", "unbind.b", "fc.w", "fc.b"};
static const int64_t shapes[NT][4] = {{2, 1, 3, 3}, {2}, {2, 2}, {2, 4}, {4, 2}, {4}, {3, 2}, {3}};
static const int ndims[NT] = {4, 1, 2, 2, 2, 1, 2, 1};
static float weights[NT][18];

static int64_t count_of(int t) {
    int64_t n = 1;
    for (int d = 0; d < ndims[t]; d++) n *= shapes[t][d];
    return n;
}

static const char *graph_json(tiny_variant v) {
    static char buf[4096];
    const char *op2 = v == V_UNKNOWN_OP ? "conv3d" : "superpose";
    const char *fcb = v == V_MISSING_TENSOR ? "fc.bias2" : "fc.b";
    const char *in3 = v == V_UNKNOWN_INPUT ? "nope" : "p";
    const char *sup = v == V_MISSING_SUPERPOSE_N ? "{\\\"1\\\": \\\"sup.1\\\"}"
                                                   : "{\\\"1\\\": \\\"sup.1\\\", \\\"2\\\": \\\"sup.2\\\"}";
    snprintf(buf, sizeof buf,
             "{\\\"format_version\\\": 1, \\\"family\\\": \\\"mimoconv\\\", \\\"name\\\": \\\"tiny\\\", "
             "\\\"capacity\\\": %s, "
             "\\\"input\\\": {\\\"channels\\\": 1, \\\"height\\\": 4, \\\"width\\\": 4, \\\"mean\\\": [0.5], "
             "\\\"std\\\": [0.25], \\\"labels\\\": [\\\"a\\\", \\\"b\\\", \\\"c\\\"]}, "
             "\\\"nodes\\\": ["
             "{\\\"op\\\": \\\"conv2d\\\", \\\"inputs\\\": [\\\"input\\\"], \\\"output\\\": \\\"a\\\", "
             "\\\"weight\\\": \\\"conv.w\\\", \\\"bias\\\": \\\"conv.b\\\", \\\"stride\\\": 1, \\\"pad\\\": 1, "
             "\\\"act\\\": \\\"relu\\\"}, "
             "{\\\"op\\\": \\\"%s\\\", \\\"inputs\\\": [\\\"a\\\"], \\\"output\\\": \\\"s\\\", \\\"weights\\\": %s}, "
             "{\\\"op\\\": \\\"global_avgpool\\\", \\\"inputs\\\": [\\\"s\\\"], \\\"output\\\": \\\"p\\\"}, "
             "{\\\"op\\\": \\\"linear\\\", \\\"inputs\\\": [\\\"%s\\\"], \\\"output\\\": \\\"u\\\", "
             "\\\"weight\\\": \\\"unbind.w\\\", \\\"bias\\\": \\\"unbind.b\\\", \\\"act\\\": \\\"relu\\\"}, "
             "{\\\"op\\\": \\\"unsuperpose\\\", \\\"inputs\\\": [\\\"u\\\"], \\\"output\\\": \\\"v\\\"}, "
             "{\\\"op\\\": \\\"linear\\\", \\\"inputs\\\": [\\\"v\\\"], \\\"output\\\": \\\"logits\\\", "
             "\\\"weight\\\": \\\"fc.w\\\", \\\"bias\\\": \\\"%s\\\"}], "
             "\\\"output\\\": \\\"logits\\\"}%s",
             v == V_BAD_CAPACITY ? "3" : "2", op2, sup, in3, fcb, v == V_BAD_GRAPH_JSON ? "}}" : "");
    return buf;
}

/* Writes the model (or a broken variant) to path. */
void tiny_write(const char *path, tiny_variant v) {
    char hdr[8192];
    size_t k = 0;
    k += (size_t)snprintf(hdr + k, sizeof hdr - k, "{");
    uint64_t off = 0;
    for (int t = 0; t < NT; t++) {
        int64_t n = count_of(t);
        const char *dtype = "F32";
        int64_t shape0 = shapes[t][0];
        uint64_t bytes = (uint64_t)n * 4, begin = off, end = off + bytes;
        if (t == FC_W && v == V_WRONG_SHAPE) shape0 = 1; /* (1, 2): fc gives 1 class, not 3 */
        if (t == FC_W && v == V_WRONG_SHAPE) end = begin + 8;
        if (t == UNB_B && v == V_WRONG_DTYPE) dtype = "F64", end = begin + (uint64_t)n * 8;
        if (t == UNB_B && v == V_UNKNOWN_DTYPE) dtype = "Q7";
        if (t == FC_B && v == V_OFFSET_PAST_END) end = begin + 4000, begin = begin + 4000 - bytes;
        if (t == FC_B && v == V_OVERLAP) begin -= 4, end -= 4;
        if (t == CONV_B && v == V_SIZE_MISMATCH) end += 4;
        k += (size_t)snprintf(hdr + k, sizeof hdr - k, "\"%s\": {\"dtype\": \"%s\", \"shape\": [", names[t], dtype);
        for (int d = 0; d < ndims[t]; d++) {
            if (t == CONV_W && d == 0 && v == V_ABSURD_DIMS)
                k += (size_t)snprintf(hdr + k, sizeof hdr - k, "%s1000000000000", d ? ", " : "");
            else
                k += (size_t)snprintf(hdr + k, sizeof hdr - k, "%s%lld", d ? ", " : "",
                                      (long long)(d == 0 ? shape0 : shapes[t][d]));
        }
        k += (size_t)snprintf(hdr + k, sizeof hdr - k, "], \"data_offsets\": [%llu, %llu]}, ",
                              (unsigned long long)begin, (unsigned long long)end);
        off += (t == UNB_B && v == V_WRONG_DTYPE) ? (uint64_t)n * 8 : bytes;
    }
    if (v == V_NOT_MIMOVK)
        k += (size_t)snprintf(hdr + k, sizeof hdr - k, "\"__metadata__\": {\"format\": \"pt\"}}");
    else
        k += (size_t)snprintf(hdr + k, sizeof hdr - k, "\"__metadata__\": {\"format\": \"mimovk\", \"mimovk\": \"%s\"}}",
                              graph_json(v));
    if (v == V_BAD_JSON) hdr[0] = '['; /* an array cannot hold "name": value pairs */
    while (k % 8) hdr[k++] = ' ';
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    if (v != V_EMPTY) {
        uint64_t hlen = v == V_LYING_HLEN ? (uint64_t)k + 1000000 : (uint64_t)k;
        for (int i = 0; i < 8; i++) fputc((int)((hlen >> (8 * i)) & 0xff), f);
        fwrite(hdr, 1, k, f);
        for (int t = 0; t < NT; t++) {
            if (t == UNB_B && v == V_WRONG_DTYPE) {
                double d[4] = {0};
                fwrite(d, 8, 4, f);
            } else {
                int64_t n = count_of(t);
                if (v == V_TRUNCATED && t == FC_W) n = 2; /* the file ends early */
                fwrite(weights[t], 4, (size_t)n, f);
                if (v == V_TRUNCATED && t == FC_W) break;
            }
        }
    }
    fclose(f);
}

void tiny_init(void) {
    mt_seed(7);
    for (int t = 0; t < NT; t++)
        for (int i = 0; i < count_of(t); i++) weights[t][i] = mt_uniform(-1, 1);
}

/* The model in plain C: logits for `count` images at n per superposition (count % n == 0). */
void tiny_reference(const float *x, int count, int n, float *logits) {
    const float *cw = weights[CONV_W], *cb = weights[CONV_B], *A = n == 1 ? weights[SUP1] : weights[SUP2];
    int r = 2 / n;
    for (int g = 0; g < count / n; g++) {
        double pooled[2] = {0, 0};
        for (int o = 0; o < 2; o++)
            for (int p = 0; p < 16; p++) {
                double s = 0;
                for (int i = 0; i < n; i++)
                    for (int c = 0; c < 2; c++) {
                        const float *img = x + (size_t)(g * n + i) * 16;
                        int y = p / 4, xx = p % 4;
                        double a = cb[c];
                        for (int ky = 0; ky < 3; ky++)
                            for (int kx = 0; kx < 3; kx++) {
                                int iy = y + ky - 1, ix = xx + kx - 1;
                                if (iy >= 0 && iy < 4 && ix >= 0 && ix < 4) a += cw[c * 9 + ky * 3 + kx] * img[iy * 4 + ix];
                            }
                        s += A[o * 2 * n + i * 2 + c] * (a > 0 ? a : 0);
                    }
                pooled[o] += s / 16;
            }
        double u[4];
        for (int j = 0; j < 4; j++) {
            double a = weights[UNB_B][j];
            for (int c = 0; c < 2; c++) a += weights[UNB_W][j * 2 + c] * pooled[c];
            u[j] = a > 0 ? a : 0;
        }
        for (int i = 0; i < n; i++)
            for (int kk = 0; kk < 3; kk++) {
                double l = weights[FC_B][kk];
                for (int f = 0; f < 2; f++) {
                    double v = 0;
                    for (int rho = 0; rho < r; rho++) v += u[(rho * n + i) * 2 + f];
                    l += weights[FC_W][kk * 2 + f] * v / r;
                }
                logits[(g * n + i) * 3 + kk] = (float)l;
            }
    }
}

