#version 450
#extension GL_GOOGLE_include_directive : require
// Elementwise binding bundled over n inputs: out[g][q] = s * sum_i keys[i][q mod D] * x[g*n+i][q]
// where q runs over the `inner` elements of one x row (positions times D; keys are shared by
// positions) and s is 1 (sum) or 1/n (mean).
#include "common.glsl"

layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer K { float keys[]; };
layout(std430, binding = 2) writeonly buffer Y { float y[]; };
layout(push_constant) uniform Push {
    uint total;  // G * inner
    uint inner;  // elements of one row of x
    uint n;      // inputs per group
    uint d;      // key length
    float s;     // bundle scale
} p;

void main() {
    uint i = mvk_flat_index();
    if (i >= p.total) return;
    uint g = i / p.inner, q = i - g * p.inner, c = q % p.d;
    uint base = g * p.n * p.inner + q;
    float acc = 0.0;
    for (uint j = 0; j < p.n; j++) acc += keys[j * p.d + c] * x[base + j * p.inner];
    y[i] = acc * p.s;
}
