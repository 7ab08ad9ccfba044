#version 450
#extension GL_GOOGLE_include_directive : require
// GLOBAL_AVGPOOL: y[r] = mean of x[r * L .. r * L + L - 1], r = n * C + c, L = H * W.
// GPU: one workgroup per row, strided partial sums and a shared-memory tree.
// CPU: one invocation per row, a loop (vec4 loads when L % 4 == 0).
//! variant global_avgpool_cpu -DCPU=1 -DVEC=1
//! variant global_avgpool_cpu4 -DCPU=1 -DVEC=4
//! variant global_avgpool_gpu -DCPU=0 -DVEC=1
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
    float s = 0.0;
#if VEC == 4
    vec4 s4 = vec4(0.0);
    for (uint j = 0; j < n; j++) s4 += x[base + j];
    s = (s4.x + s4.y) + (s4.z + s4.w);
#else
    for (uint j = 0; j < n; j++) s += x[base + j];
#endif
    y[row] = s / float(p.len);
#else
    uint row = mvk_flat_group();
    if (row >= p.rows) return; // uniform per workgroup
    uint base = row * p.len;
    float s = 0.0;
    for (uint j = gl_LocalInvocationID.x; j < p.len; j += gl_WorkGroupSize.x) s += x[base + j];
    s = mvk_wg_sum(s);
    if (gl_LocalInvocationID.x == 0) y[row] = s / float(p.len);
#endif
}
