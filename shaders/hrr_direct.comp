#version 450
#extension GL_GOOGLE_include_directive : require
// HRR by the definition, O(D^2) per row: circular convolution (mode 0)
//   z[p][o] = sum_m k[m] x[p][(o - m) mod D]
// or circular correlation (mode 1)
//   z[p][o] = sum_m k[m] x[p][(o + m) mod D]
// with k the key row of p (KALL 0: one key for all rows, so its loads are uniform).
//
// Each invocation computes B consecutive outputs o0..o0+B-1 of one row and walks the key in
// chunks of B: per chunk it loads the 2B x values the chunk touches and B key values, then does
// B*B multiply-adds with compile-time indices (the loops unroll and everything stays in
// registers). Loads per multiply-add bound CPU implementations such as lavapipe, so with VEC4
// (D a multiple of 4) both operands are read as vec4. Indices wrap by selects; every invocation
// runs the same number of steps.
//   hrr_direct: operands from global memory, one invocation per block of B outputs (CPUs).
//   hrr_direct_shared: a workgroup per ROWS rows, staged in shared memory first (GPUs).
//! variant hrr_direct -DSHARED=0
//! variant hrr_direct_shared -DSHARED=1
#include "common.glsl"

#define B 16

layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 0) readonly buffer X4 { vec4 x4[]; };
layout(std430, binding = 1) readonly buffer K { float k[]; };
layout(std430, binding = 1) readonly buffer K4 { vec4 k4[]; };
layout(std430, binding = 2) writeonly buffer Z { float z[]; };
layout(push_constant) uniform Push {
    uint rows;  // P
    uint d;     // D
    uint nb;    // blocks per row, ceil(D / B)
    uint mode;  // 0 convolution, 1 correlation
} p;
layout(constant_id = 3) const uint KALL = 0;  // 1: one key row per x row
layout(constant_id = 4) const uint VEC4 = 0;  // 1: D % 4 == 0, read both operands as vec4

#if SHARED
layout(constant_id = 5) const uint ROWS = 1;   // rows per workgroup
layout(constant_id = 6) const uint SHM = 64;   // ROWS * D floats staged per operand
shared float xs[SHM];
shared float ks[SHM];
#endif

// B outputs from o0 of the row at xb (x) with its key at kb (both in floats).
void block(uint xb, uint kb, uint o0, uint zb) {
    uint d = p.d;
    bool conv = p.mode == 0;
    float acc[B], v[2 * B], kv[B];
    for (uint b = 0; b < B; b++) acc[b] = 0.0;
    // The window: v[s] = x[(start + s) mod d], start = o0 - m0 - B (convolution; the term of
    // k[m0+t] for output b is v[b - t + B]) or o0 + m0 (correlation; v[b + t]).
    int start = conv ? int(o0) - int(B) : int(o0);
    start %= int(d);
    if (start < 0) start += int(d);
    for (uint m0 = 0; m0 < d; m0 += B) {
#if !SHARED
        if (VEC4 == 1) {
            uint d4 = d / 4, j4 = uint(start) / 4;
            for (uint q = 0; q < B / 2; q++) {
                vec4 a = x4[xb / 4 + j4];
                v[4 * q] = a.x; v[4 * q + 1] = a.y; v[4 * q + 2] = a.z; v[4 * q + 3] = a.w;
                j4 = j4 + 1 == d4 ? 0 : j4 + 1;
            }
            for (uint q = 0; q < B / 4; q++) {
                uint m = m0 + 4 * q;
                vec4 a = k4[(kb + min(m, d - 4)) / 4] * (m < d ? 1.0 : 0.0);
                kv[4 * q] = a.x; kv[4 * q + 1] = a.y; kv[4 * q + 2] = a.z; kv[4 * q + 3] = a.w;
            }
        } else
#endif
        {
            uint j = uint(start);
            for (uint s = 0; s < 2 * B; s++) {
#if SHARED
                v[s] = xs[xb + j];
#else
                v[s] = x[xb + j];
#endif
                j = j + 1 == d ? 0 : j + 1;
            }
            for (uint t = 0; t < B; t++) {
                uint m = min(m0 + t, d - 1);
#if SHARED
                kv[t] = ks[kb + m] * (m0 + t < d ? 1.0 : 0.0);
#else
                kv[t] = k[kb + m] * (m0 + t < d ? 1.0 : 0.0);
#endif
            }
        }
        if (conv) {
            for (uint t = 0; t < B; t++)
                for (uint b = 0; b < B; b++) acc[b] += kv[t] * v[b - t + B];
            start -= int(B);
            if (d >= B) start += start < 0 ? int(d) : 0;
            else start = ((start % int(d)) + int(d)) % int(d);
        } else {
            for (uint t = 0; t < B; t++)
                for (uint b = 0; b < B; b++) acc[b] += kv[t] * v[b + t];
            start += int(B);
            if (d >= B) start -= start >= int(d) ? int(d) : 0;
            else start %= int(d);
        }
    }
    for (uint b = 0; b < B; b++)
        if (o0 + b < d) z[zb + o0 + b] = acc[b];
}

void main() {
    uint d = p.d;
#if !SHARED
    uint i = mvk_flat_index();
    if (i >= p.rows * p.nb) return;
    uint row = i / p.nb, o0 = (i - row * p.nb) * B;
    block(row * d, KALL * row * d, o0, row * d);
#else
    uint row0 = mvk_flat_group() * ROWS;
    if (row0 >= p.rows) return; // uniform per workgroup
    uint nrows = min(ROWS, p.rows - row0);
    uint lid = gl_LocalInvocationID.x, wg = gl_WorkGroupSize.x;
    for (uint j = lid; j < nrows * d; j += wg) {
        xs[j] = x[row0 * d + j];
        ks[j] = k[KALL * row0 * d + (KALL == 1 ? j : j % d)];
    }
    barrier();
    for (uint j = lid; j < nrows * p.nb; j += wg) {
        uint r = j / p.nb, o0 = (j - r * p.nb) * B;
        block(r * d, KALL * r * d, o0, (row0 + r) * d);
    }
#endif
}
