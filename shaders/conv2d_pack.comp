#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
// Input staging for conv2d_cpu: the activated input, zero-padded, in rows aligned for vector
// loads:   xp[n][ci][r][c] = u[n][ci][r - PAD][c - PAD]   (0 outside the image)
// for r < HP, c < WP (WP a multiple of 8), where u = pre_act(pre_scale*x + pre_shift) is the
// prologue, applied here once per element; padding stays zero, as PyTorch pads the activated
// tensor. One invocation writes 8 consecutive columns (two vec4 stores). With FASTX (stride
// of the input rows W % 4 == 0) it reads the 12 input columns around them as three aligned
// vec4 loads instead of 8 scalar loads (loads are what costs on llvmpipe).
#include "common.glsl"
#include "conv2d_common.glsl"

layout(constant_id = 17) const uint WP = 8;   // row pitch of the copy (a multiple of 8)
layout(constant_id = 18) const uint HP = 1;   // rows of the copy
layout(constant_id = 19) const uint FASTX = 0;

layout(std430, binding = 2) writeonly buffer XP4 { vec4 xp4[]; };

const uint WP8 = WP / 8u;

void main() {
    uint gid = mvk_flat_index();
    uint row = gid / WP8; // (n * CI + ci) * HP + r
    if (row >= pc.n * CI * HP) return;
    uint c0 = (gid - row * WP8) * 8u;
    uint plane = row / HP; // n * CI + ci
    uint r = row - plane * HP;
    int iy = int(r) - int(PAD);
    bool rok = iy >= 0 && iy < int(H);
    uint rbase = plane * HW + uint(clamp(iy, 0, int(H) - 1)) * W;
    int ix0 = int(c0) - int(PAD); // input column of output column c0
    PreCh pre = pre_load(plane % CI);
    float v[8];
    if (FASTX != 0u) {
        // Aligned vec4s at columns a-4, a, a+4 (a = ix0 rounded down to 4) cover ix0..ix0+7
        // for PAD <= 4; out-of-row vectors are clamped and masked below.
        int a = ix0 >= 0 ? ix0 & ~3 : -((-ix0 + 3) & ~3);
        float in12[12];
        [[unroll]] for (uint j = 0; j < 3u; j++) {
            int col = a + 4 * int(j);
            vec4 t = x4[(rbase + uint(clamp(col, 0, int(W) - 4))) >> 2];
            in12[4u * j + 0u] = t.x;
            in12[4u * j + 1u] = t.y;
            in12[4u * j + 2u] = t.z;
            in12[4u * j + 3u] = t.w;
        }
        int sh = ix0 - a; // 0..3
        [[unroll]] for (uint e = 0; e < 8u; e++) {
            // in12[sh + e] with a dynamic sh: select among the 4 candidates.
            float c = sh == 0 ? in12[e] : sh == 1 ? in12[e + 1u] : sh == 2 ? in12[e + 2u] : in12[e + 3u];
            int ix = ix0 + int(e);
            v[e] = rok && ix >= 0 && ix < int(W) ? pre_apply(pre, c) : 0.0;
        }
    } else {
        [[unroll]] for (uint e = 0; e < 8u; e++) {
            int ix = ix0 + int(e);
            float c = pre_apply(pre, x[rbase + uint(clamp(ix, 0, int(W) - 1))]);
            v[e] = rok && ix >= 0 && ix < int(W) ? c : 0.0;
        }
    }
    uint o = (row * WP + c0) >> 2;
    xp4[o] = vec4(v[0], v[1], v[2], v[3]);
    xp4[o + 1u] = vec4(v[4], v[5], v[6], v[7]);
}
