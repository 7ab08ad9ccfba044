#version 450
#extension GL_GOOGLE_include_directive : require
// GROUP_MEAN (MIMOConv's unbinding replica mean): x (G, r n F) -> y (G n, F),
// y[g n + i][f] = (1 / r) sum_p x[g][(p n + i) F + f]. One output (or vec4 when F % 4 == 0) per
// invocation, r loads each; both kernel classes.
//! variant group_mean -DVEC=1
//! variant group_mean4 -DVEC=4
#include "common.glsl"

#if VEC == 4
#define VT vec4
#else
#define VT float
#endif
layout(std430, binding = 0) readonly buffer X { VT x[]; };
layout(std430, binding = 1) writeonly buffer Y { VT y[]; };
// count = G n F / VEC outputs, f = F / VEC.
layout(push_constant) uniform Push { uint count, f, n, r; } p;

void main() {
    uint o = mvk_flat_index();
    if (o >= p.count) return;
    uint f = o % p.f, gi = o / p.f, i = gi % p.n, g = gi / p.n;
    uint stride = p.n * p.f;                  // between replicas p and p + 1
    uint base = g * p.r * stride + i * p.f + f;
    VT s = VT(0.0);
    for (uint q = 0; q < p.r; q++) s += x[base + q * stride];
    y[o] = s / float(p.r);
}
