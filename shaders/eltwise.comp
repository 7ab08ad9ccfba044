#version 450
#extension GL_GOOGLE_include_directive : require
// Elementwise binary and unary ops over flat arrays: y = a + b, a * b, or scale * a.
//! variant eltwise_add -DOP=0
//! variant eltwise_mul -DOP=1
//! variant eltwise_scale -DOP=2
#include "common.glsl"

layout(std430, binding = 0) readonly buffer A { float a[]; };
layout(std430, binding = 1) readonly buffer B { float b[]; };
layout(std430, binding = 2) writeonly buffer Y { float y[]; };
layout(push_constant) uniform Push { uint n; float scale; } p;

void main() {
    uint i = mvk_flat_index();
    if (i >= p.n) return;
#if OP == 0
    y[i] = a[i] + b[i];
#elif OP == 1
    y[i] = a[i] * b[i];
#else
    y[i] = p.scale * a[i];
#endif
}
