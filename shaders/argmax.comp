#version 450
#extension GL_GOOGLE_include_directive : require
// ARGMAX over the last axis: the index (as a float) of the largest value, the first on ties.
// CPU: one invocation per row, one sweep (vec4 when len % 4 == 0).
// GPU: one workgroup per row, strided sweeps and a shared-memory (value, index) tree.
//! variant argmax_cpu -DCPU=1 -DVEC=1
//! variant argmax_cpu4 -DCPU=1 -DVEC=4
//! variant argmax_gpu -DCPU=0 -DVEC=1
#include "common.glsl"
#include "rowred.glsl"

#if VEC == 4
layout(std430, binding = 0) readonly buffer X { vec4 x[]; };
#else
layout(std430, binding = 0) readonly buffer X { float x[]; };
#endif
layout(std430, binding = 1) writeonly buffer Y { float y[]; };
layout(push_constant) uniform Push { uint rows, len; } p;

void main() {
#if CPU
    uint row = mvk_flat_index();
    if (row >= p.rows) return;
    uint n = p.len / VEC, base = row * n;
    // Strictly greater replaces: the first maximum wins (index 0 if every value is -inf).
    float bv = MVK_NEG_INF;
    uint bi = 0;
    for (uint j = 0; j < n; j++) {
#if VEC == 4
        vec4 v = x[base + j];
        if (v.x > bv) { bv = v.x; bi = 4 * j; }
        if (v.y > bv) { bv = v.y; bi = 4 * j + 1; }
        if (v.z > bv) { bv = v.z; bi = 4 * j + 2; }
        if (v.w > bv) { bv = v.w; bi = 4 * j + 3; }
#else
        float v = x[base + j];
        if (v > bv) { bv = v; bi = j; }
#endif
    }
    y[row] = float(bi);
#else
    uint row = mvk_flat_group();
    if (row >= p.rows) return; // the whole workgroup
    uint base = row * p.len, t = gl_LocalInvocationID.x, wg = gl_WorkGroupSize.x;
    float bv = MVK_NEG_INF;
    uint bi = 0xffffffffu; // none yet; loses every tie in mvk_before
    for (uint j = t; j < p.len; j += wg) {
        float v = x[base + j];
        if (bi == 0xffffffffu || v > bv) { bv = v; bi = j; }
    }
    mvk_wg_best(bv, bi);
    if (t == 0) y[row] = float(bi);
#endif
}
