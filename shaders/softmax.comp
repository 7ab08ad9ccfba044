#version 450
#extension GL_GOOGLE_include_directive : require
// SOFTMAX over the last axis, numerically stable: y = exp(x - max) / sum exp(x - max).
// CPU: one invocation per row, three sweeps (vec4 when len % 4 == 0).
// GPU: one workgroup per row, strided sweeps and shared-memory max/sum trees.
//! variant softmax_cpu -DCPU=1 -DVEC=1
//! variant softmax_cpu4 -DCPU=1 -DVEC=4
//! variant softmax_gpu -DCPU=0 -DVEC=1
#include "common.glsl"
#include "rowred.glsl"

#if VEC == 4
#define VT vec4
#else
#define VT float
#endif
layout(std430, binding = 0) readonly buffer X { VT x[]; };
layout(std430, binding = 1) writeonly buffer Y { VT y[]; };
layout(push_constant) uniform Push { uint rows, len; } p;

void main() {
#if CPU
    uint row = mvk_flat_index();
    if (row >= p.rows) return;
    uint n = p.len / VEC, base = row * n;
    VT m4 = VT(MVK_NEG_INF);
    for (uint j = 0; j < n; j++) m4 = max(m4, x[base + j]);
#if VEC == 4
    float m = max(max(m4.x, m4.y), max(m4.z, m4.w));
#else
    float m = m4;
#endif
    VT s4 = VT(0.0);
    for (uint j = 0; j < n; j++) s4 += exp(x[base + j] - m);
#if VEC == 4
    float s = (s4.x + s4.y) + (s4.z + s4.w);
#else
    float s = s4;
#endif
    float inv = 1.0 / s;
    for (uint j = 0; j < n; j++) y[base + j] = exp(x[base + j] - m) * inv;
#else
    uint row = mvk_flat_group();
    if (row >= p.rows) return; // the whole workgroup
    uint base = row * p.len, t = gl_LocalInvocationID.x, wg = gl_WorkGroupSize.x;
    float m = MVK_NEG_INF;
    for (uint j = t; j < p.len; j += wg) m = max(m, x[base + j]);
    m = mvk_wg_max(m);
    float s = 0.0;
    for (uint j = t; j < p.len; j += wg) s += exp(x[base + j] - m);
    float inv = 1.0 / mvk_wg_sum(s);
    for (uint j = t; j < p.len; j += wg) y[base + j] = exp(x[base + j] - m) * inv;
#endif
}
