#version 450
#extension GL_GOOGLE_include_directive : require
// The elementwise steps of HRR through the FFT (engine/ops/hrr.c):
//   hrr_pack: copies x (P rows) and the key (K rows) into one real scratch of P + K rows, so
//     one batched R2C transforms both.
//   hrr_cmul: multiplies each row's spectrum by its key's spectrum, in place:
//     S[p][f] *= K[f] (convolution) or conj(K[f]) (correlation), for the F = D/2 + 1 bins.
//! variant hrr_pack -DOP=0
//! variant hrr_cmul -DOP=1
#include "common.glsl"

#if OP == 0
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer K { float k[]; };
layout(std430, binding = 2) writeonly buffer R { float r[]; };
layout(push_constant) uniform Push { uint nx; uint n; } p; // P*D, (P+K)*D

void main() {
    uint i = mvk_flat_index();
    if (i >= p.n) return;
    r[i] = i < p.nx ? x[i] : k[i - p.nx];
}
#else
layout(std430, binding = 0) buffer S { vec2 s[]; };
layout(push_constant) uniform Push {
    uint rows;  // P
    uint f;     // D/2 + 1
    uint kall;  // 1: one key spectrum per row; 0: one for all rows
    uint mode;  // 0 convolution, 1 correlation
} p;

void main() {
    uint i = mvk_flat_index();
    if (i >= p.rows * p.f) return;
    uint row = i / p.f, bin = i - row * p.f;
    vec2 kv = s[(p.rows + row * p.kall) * p.f + bin];
    if (p.mode == 1) kv.y = -kv.y;
    vec2 xv = s[i];
    s[i] = vec2(xv.x * kv.x - xv.y * kv.y, xv.x * kv.y + xv.y * kv.x);
}
#endif
