#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
#extension GL_ARB_gpu_shader_int64 : require
// Weight staging for conv2d_cpu, as conv2d_wpack.comp, for devices with shaderInt64 and
// K % 8 == 0: the (CO, K) weights transposed to (K, COP) in 8 x 8 blocks, eight u64vec4 loads
// (8 floats of one channel each) and eight u64vec4 stores (8 channels of one k each) per
// invocation: half the per-lane memory operations of the 4 x 4 vec4 blocks.
#include "common.glsl"
#include "conv2d_common.glsl"

layout(constant_id = 17) const uint COP = 8; // a multiple of 8

const uint K = CI * KK;

layout(std430, binding = 1) readonly buffer W8 { u64vec4 w8[]; };
layout(std430, binding = 2) writeonly buffer WT8 { u64vec4 wt8[]; };

void main() {
    uint gid = mvk_flat_index();
    uint kb = gid / (COP / 8u);
    if (kb >= K / 8u) return;
    uint cb = gid - kb * (COP / 8u);
    uvec2 b[64]; // b[i * 8 + j] = bits of W[8cb + i][8kb + j], as pairs (j even, j odd)
    [[unroll]] for (uint i = 0; i < 8u; i++) {
        uint co = 8u * cb + i;
        u64vec4 t = w8[min(co, CO - 1u) * (K / 8u) + kb];
        if (co >= CO) t = u64vec4(0ul);
        b[i * 8u + 0u] = unpackUint2x32(t.x);
        b[i * 8u + 2u] = unpackUint2x32(t.y);
        b[i * 8u + 4u] = unpackUint2x32(t.z);
        b[i * 8u + 6u] = unpackUint2x32(t.w);
    }
    // Row k = 8kb + j of the result holds W[8cb .. 8cb+7][k]: pairs of channels per 64 bits.
    [[unroll]] for (uint j = 0; j < 8u; j++) {
        uint q = (j & ~1u), h = j & 1u; // the pair holding column j, and which half
        u64vec4 o;
        o.x = packUint2x32(uvec2(b[0u * 8u + q][h], b[1u * 8u + q][h]));
        o.y = packUint2x32(uvec2(b[2u * 8u + q][h], b[3u * 8u + q][h]));
        o.z = packUint2x32(uvec2(b[4u * 8u + q][h], b[5u * 8u + q][h]));
        o.w = packUint2x32(uvec2(b[6u * 8u + q][h], b[7u * 8u + q][h]));
        wt8[(8u * kb + j) * (COP / 8u) + cb] = o;
    }
}
