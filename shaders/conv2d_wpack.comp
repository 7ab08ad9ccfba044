#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
// Weight staging for conv2d_cpu: the (CO, K) PyTorch weight matrix (K = CI*KH*KW) transposed
// to (K, COP), COP = CO rounded up to a multiple of 8, zero in the padding, so that the output
// channels of one tap are contiguous for vector loads. One invocation moves a 4 x 4 block: with
// FASTK 1 (K % 4 == 0) four vec4 row loads and four vec4 stores, else 16 scalar loads; with
// FASTK 2 (I64 variant, K % 8 == 0) an 8 x 8 block with eight u64vec4 loads and stores.
//! variant conv2d_wpack
//! variant conv2d_wpack_i64 -DI64=1
#if I64
#extension GL_ARB_gpu_shader_int64 : require
#endif
#include "common.glsl"
#include "conv2d_common.glsl"

layout(constant_id = 17) const uint COP = 8;
layout(constant_id = 18) const uint FASTK = 0;

layout(std430, binding = 2) writeonly buffer WT4 { vec4 wt4[]; };

const uint K = CI * KK;

#if I64
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
#else
void main() {
    uint gid = mvk_flat_index();
    uint kb = gid / (COP / 4u);
    if (kb >= (K + 3u) / 4u) return;
    uint cb = gid - kb * (COP / 4u);
    float b[16]; // b[i * 4 + j] = W[4cb + i][4kb + j]
    [[unroll]] for (uint i = 0; i < 4u; i++) {
        uint co = 4u * cb + i;
        uint src = min(co, CO - 1u) * K;
        if (FASTK != 0u) {
            vec4 t = w4[(src >> 2) + kb];
            if (co >= CO) t = vec4(0.0);
            b[i * 4u + 0u] = t.x;
            b[i * 4u + 1u] = t.y;
            b[i * 4u + 2u] = t.z;
            b[i * 4u + 3u] = t.w;
        } else {
            [[unroll]] for (uint j = 0; j < 4u; j++) {
                uint k = 4u * kb + j;
                float v = w[src + min(k, K - 1u)];
                b[i * 4u + j] = co < CO && k < K ? v : 0.0;
            }
        }
    }
    [[unroll]] for (uint j = 0; j < 4u; j++) {
        uint k = 4u * kb + j;
        if (k < K) wt4[(k * COP) / 4u + cb] = vec4(b[j], b[4u + j], b[8u + j], b[12u + j]);
    }
}
#endif
