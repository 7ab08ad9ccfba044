#version 450
#extension GL_GOOGLE_include_directive : require
// TOPK over the last axis: the indices (as floats) of the k largest values, largest first, the
// lower index first on ties. Selection: pass t picks the first element, in (value desc, index
// asc) order, that comes after the one picked by pass t - 1; k sweeps, no private arrays.
// CPU: one invocation per row (vec4 loads when len % 4 == 0).
// GPU: one workgroup per row, strided sweeps and a shared-memory (value, index) tree per pass.
//! variant topk_cpu -DCPU=1 -DVEC=1
//! variant topk_cpu4 -DCPU=1 -DVEC=4
//! variant topk_gpu -DCPU=0 -DVEC=1
#include "common.glsl"
#include "rowred.glsl"

#if VEC == 4
layout(std430, binding = 0) readonly buffer X { vec4 x[]; };
#else
layout(std430, binding = 0) readonly buffer X { float x[]; };
#endif
layout(std430, binding = 1) writeonly buffer Y { float y[]; };
layout(push_constant) uniform Push { uint rows, len, k; } p;

const uint NONE = 0xffffffffu;

// Whether (v, i) is a candidate after (pv, pi) and better than the best (bv, bi) so far.
bool better(float v, uint i, float pv, uint pi, float bv, uint bi) {
    bool after = pi == NONE || mvk_before(pv, pi, v, i);
    return after && (bi == NONE || mvk_before(v, i, bv, bi));
}

void main() {
#if CPU
    uint row = mvk_flat_index();
    if (row >= p.rows) return;
    uint n = p.len / VEC, base = row * n;
    float pv = 0.0;
    uint pi = NONE;
    for (uint t = 0; t < p.k; t++) {
        float bv = 0.0;
        uint bi = NONE;
        for (uint j = 0; j < n; j++) {
#if VEC == 4
            vec4 v = x[base + j];
            if (better(v.x, 4 * j, pv, pi, bv, bi)) { bv = v.x; bi = 4 * j; }
            if (better(v.y, 4 * j + 1, pv, pi, bv, bi)) { bv = v.y; bi = 4 * j + 1; }
            if (better(v.z, 4 * j + 2, pv, pi, bv, bi)) { bv = v.z; bi = 4 * j + 2; }
            if (better(v.w, 4 * j + 3, pv, pi, bv, bi)) { bv = v.w; bi = 4 * j + 3; }
#else
            float v = x[base + j];
            if (better(v, j, pv, pi, bv, bi)) { bv = v; bi = j; }
#endif
        }
        y[row * p.k + t] = float(bi);
        pv = bv;
        pi = bi;
    }
#else
    uint row = mvk_flat_group();
    if (row >= p.rows) return; // the whole workgroup
    uint base = row * p.len, t = gl_LocalInvocationID.x, wg = gl_WorkGroupSize.x;
    float pv = 0.0;
    uint pi = NONE;
    for (uint s = 0; s < p.k; s++) {
        float bv = MVK_NEG_INF;
        uint bi = NONE;
        for (uint j = t; j < p.len; j += wg) {
            float v = x[base + j];
            if (better(v, j, pv, pi, bv, bi)) { bv = v; bi = j; }
        }
        // An invocation without a candidate holds (-inf, NONE), which loses to any candidate.
        mvk_wg_best(bv, bi);
        if (t == 0) y[row * p.k + s] = float(bi);
        pv = bv;
        pi = bi;
    }
#endif
}
