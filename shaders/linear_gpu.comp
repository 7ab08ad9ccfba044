#version 450
#extension GL_GOOGLE_include_directive : require
// LINEAR for GPUs: y[n][o] = act(sum_f x[n][f] w[o][f] + bias[o]).
// Classic shared-memory tiling with register blocking. A workgroup of WX x WY invocations owns a
// BM x BN output tile (BM = WY * RM rows of x, BN = WX * RN rows of W) and walks F in steps of
// BK: it stages x[BM][BK] and W[BN][BK] in shared memory (coalesced loads along F, stored
// k-major), then each invocation accumulates its RM x RN outputs, rows ty + WY i and columns
// tx + WX j, so neighbouring invocations read neighbouring shared words and write neighbouring
// outputs. Tile sizes are specialisation constants chosen from the device limits.
#include "common.glsl"

layout(constant_id = 3) const int RM = 4;
layout(constant_id = 4) const int RN = 4;
layout(constant_id = 5) const int BK = 16;
layout(constant_id = 6) const int BM = 64; // = WY * RM
layout(constant_id = 7) const int BN = 64; // = WX * RN

layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer W { float w[]; };
layout(std430, binding = 2) readonly buffer Bias { float bias[]; };
layout(std430, binding = 3) readonly buffer Param { float aparam[]; };
layout(std430, binding = 4) writeonly buffer Y { float y[]; };
// act: enum mvk_act; flags: 1 bias, 2 act_param.
layout(push_constant) uniform Push { uint n, f, o, tiles_n; int act; uint flags; } p;

// k-major with one word of padding per k so the transposing stores (consecutive invocations,
// consecutive k) fall in different banks.
const int XS = BM + 1, WS = BN + 1;
shared float xs[BK * XS];
shared float ws[BK * WS];

void main() {
    const uint WX = gl_WorkGroupSize.x, WY = gl_WorkGroupSize.y, NT = WX * WY;
    uint tile = mvk_flat_group();
    uint n0 = (tile % p.tiles_n) * BM, o0 = (tile / p.tiles_n) * BN;
    uint tx = gl_LocalInvocationID.x, ty = gl_LocalInvocationID.y;
    uint tid = ty * WX + tx;

    float acc[RM][RN];
    for (int i = 0; i < RM; i++)
        for (int j = 0; j < RN; j++) acc[i][j] = 0.0;

    for (uint k0 = 0; k0 < p.f; k0 += BK) {
        for (uint e = tid; e < BM * BK; e += NT) {
            uint m = e / BK, kk = e % BK, n = n0 + m, k = k0 + kk;
            xs[kk * XS + m] = (n < p.n && k < p.f) ? x[n * p.f + k] : 0.0;
        }
        for (uint e = tid; e < BN * BK; e += NT) {
            uint m = e / BK, kk = e % BK, o = o0 + m, k = k0 + kk;
            ws[kk * WS + m] = (o < p.o && k < p.f) ? w[o * p.f + k] : 0.0;
        }
        barrier();
        for (int kk = 0; kk < BK; kk++) {
            float a[RM], b[RN];
            for (int i = 0; i < RM; i++) a[i] = xs[kk * XS + ty + WY * i];
            for (int j = 0; j < RN; j++) b[j] = ws[kk * WS + tx + WX * j];
            for (int i = 0; i < RM; i++)
                for (int j = 0; j < RN; j++) acc[i][j] = fma(a[i], b[j], acc[i][j]);
        }
        barrier();
    }

    for (int i = 0; i < RM; i++) {
        uint n = n0 + ty + WY * i;
        if (n >= p.n) break;
        for (int j = 0; j < RN; j++) {
            uint o = o0 + tx + WX * j;
            if (o >= p.o) break;
            float v = acc[i][j];
            if ((p.flags & 1u) != 0) v += bias[o];
            y[n * p.o + o] = mvk_act(p.act, v, (p.flags & 2u) != 0 ? aparam[o] : 0.0);
        }
    }
}
