#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
// Weight staging for conv2d_cpu: the (CO, K) PyTorch weight matrix (K = CI*KH*KW) transposed
// to (K, COP), COP = CO rounded up to a multiple of 8, zero in the padding, so that the output
// channels of one tap are contiguous for vector loads. One invocation moves a 4 x 4 block: with
// FASTK (K % 4 == 0) four vec4 row loads and four vec4 stores, else 16 scalar loads; with
// FASTK 2 (I64 variant, K % 8 == 0) an 8 x 8 block with eight u64vec4 loads and stores.
#include "common.glsl"
#include "conv2d_common.glsl"

layout(constant_id = 17) const uint COP = 8;
layout(constant_id = 18) const uint FASTK = 0;

layout(std430, binding = 2) writeonly buffer WT4 { vec4 wt4[]; };

const uint K = CI * KK;

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
