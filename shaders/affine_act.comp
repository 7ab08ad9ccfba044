#version 450
#extension GL_GOOGLE_include_directive : require
// AFFINE_ACT: y = act(scale[c] x + shift[c], param[c]) with c = (i / inner) % C, channel = dim 1.
// VEC=4 when inner % 4 == 0 (a vec4 never straddles two channels): one vec4 per invocation.
// Both kernel classes use it: an elementwise op has no shared-memory tiling to choose.
//! variant affine_act -DVEC=1
//! variant affine_act4 -DVEC=4
#include "common.glsl"

layout(constant_id = 3) const int ACT = 0;
layout(constant_id = 4) const bool HAS_SCALE = false;
layout(constant_id = 5) const bool HAS_SHIFT = false;
layout(constant_id = 6) const bool HAS_PARAM = false;

#if VEC == 4
#define VT vec4
#else
#define VT float
#endif
layout(std430, binding = 0) readonly buffer X { VT x[]; };
layout(std430, binding = 1) readonly buffer Scale { float scale[]; };
layout(std430, binding = 2) readonly buffer Shift { float shift[]; };
layout(std430, binding = 3) readonly buffer Param { float aparam[]; };
layout(std430, binding = 4) writeonly buffer Y { VT y[]; };
// count and inner are in units of VT.
layout(push_constant) uniform Push { uint count, inner, c; } p;

void main() {
    uint i = mvk_flat_index();
    if (i >= p.count) return;
    uint c = (i / p.inner) % p.c;
    VT v = x[i];
    if (HAS_SCALE) v *= scale[c];
    if (HAS_SHIFT) v += shift[c];
    float a = HAS_PARAM ? aparam[c] : 0.0;
#if VEC == 4
    y[i] = vec4(mvk_act(ACT, v.x, a), mvk_act(ACT, v.y, a), mvk_act(ACT, v.z, a), mvk_act(ACT, v.w, a));
#else
    y[i] = mvk_act(ACT, v, a);
#endif
}
