#version 450
#extension GL_GOOGLE_include_directive : require
// LAYERNORM over the last axis like torch.nn.LayerNorm: mean, biased variance (two-pass, so no
// cancellation), y = (x - mean) / sqrt(var + eps) * gamma + beta; gamma and beta optional.
// CPU: one invocation per row, three sweeps (vec4 when len % 4 == 0).
// GPU: one workgroup per row, strided sweeps and shared-memory sum trees.
//! variant layernorm_cpu -DCPU=1 -DVEC=1
//! variant layernorm_cpu4 -DCPU=1 -DVEC=4
//! variant layernorm_gpu -DCPU=0 -DVEC=1
#include "common.glsl"
#include "rowred.glsl"

layout(constant_id = 3) const bool HAS_GAMMA = false;
layout(constant_id = 4) const bool HAS_BETA = false;

#if VEC == 4
#define VT vec4
#else
#define VT float
#endif
layout(std430, binding = 0) readonly buffer X { VT x[]; };
layout(std430, binding = 1) readonly buffer Gamma { VT gamma[]; };
layout(std430, binding = 2) readonly buffer Beta { VT beta[]; };
layout(std430, binding = 3) writeonly buffer Y { VT y[]; };
layout(push_constant) uniform Push { uint rows, len; float eps; } p;

float hsum(VT v) {
#if VEC == 4
    return (v.x + v.y) + (v.z + v.w);
#else
    return v;
#endif
}

void main() {
#if CPU
    uint row = mvk_flat_index();
    if (row >= p.rows) return;
    uint n = p.len / VEC, base = row * n;
    VT s = VT(0.0);
    for (uint j = 0; j < n; j++) s += x[base + j];
    float mean = hsum(s) / float(p.len);
    VT q = VT(0.0);
    for (uint j = 0; j < n; j++) {
        VT d = x[base + j] - mean;
        q += d * d;
    }
    float rstd = inversesqrt(hsum(q) / float(p.len) + p.eps);
    for (uint j = 0; j < n; j++) {
        VT v = (x[base + j] - mean) * rstd;
        if (HAS_GAMMA) v *= gamma[j];
        if (HAS_BETA) v += beta[j];
        y[base + j] = v;
    }
#else
    uint row = mvk_flat_group();
    if (row >= p.rows) return; // the whole workgroup
    uint base = row * p.len, t = gl_LocalInvocationID.x, wg = gl_WorkGroupSize.x;
    float s = 0.0;
    for (uint j = t; j < p.len; j += wg) s += x[base + j];
    float mean = mvk_wg_sum(s) / float(p.len);
    float q = 0.0;
    for (uint j = t; j < p.len; j += wg) {
        float d = x[base + j] - mean;
        q += d * d;
    }
    float rstd = inversesqrt(mvk_wg_sum(q) / float(p.len) + p.eps);
    for (uint j = t; j < p.len; j += wg) {
        float v = (x[base + j] - mean) * rstd;
        if (HAS_GAMMA) v *= gamma[j];
        if (HAS_BETA) v += beta[j];
        y[base + j] = v;
    }
#endif
}
