#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
// conv2d for CPU-type devices (lavapipe): implicit GEMM, register-blocked, no shared memory, no
// barriers. out[n][co][oy][ox] = sum_{ci,ky,kx} W[co][ci][ky][kx] * u[n][ci][oy*S+ky-P][ox*S+kx-P].
//
// Cost model (measured on llvmpipe 22.3): 8 invocations run as SIMD lanes and every buffer
// load becomes a loop over the lanes costing ~25 cycles per lane whether it fetches 1 float or
// a u64vec4 (8 floats); an FMA is one 8-wide instruction. Straight-line bodies of more than
// ~1000 FMAs get slower (spills), and llvmpipe JIT time grows with them. So:
//   - an invocation computes TM output channels x PR output rows x PC output columns;
//   - per (ci, ky) step (both loops rolled; KHS = KH unrolls ky) it loads the input rows,
//     ICV vectors of PV floats each, and the KW x TM weights, then does TM*PR*PC*KW FMAs:
//     each input value serves every kx tap and every channel (a sliding window in registers);
//   - the input comes from conv2d_pack.comp (MODE 1: zero-padded, prologue applied, rows
//     aligned to PV, pitch WP) or straight from x (MODE 0: 1x1, stride 1, no padding, no
//     prologue, pixels flattened into one row of WP = H*W);
//   - the weights come from conv2d_wpack.comp, transposed to (K, COP): the TM channels of one
//     tap are contiguous, WV floats per load.
// Blocks past the output edge compute on padding or clamped data and are not stored.
//! variant conv2d_cpu
//! variant conv2d_cpu_i64 -DI64=1
#if I64
#extension GL_ARB_gpu_shader_int64 : require
#endif
#include "common.glsl"
#include "conv2d_common.glsl"

layout(constant_id = 17) const uint TM = 8;    // output channels per invocation (multiple of 4)
layout(constant_id = 18) const uint PR = 1;    // output rows per invocation
layout(constant_id = 19) const uint PC = 8;    // output columns per invocation
layout(constant_id = 20) const uint PV = 4;    // floats per input load: 1, 4, 8 (8 needs I64)
layout(constant_id = 21) const uint ICV = 3;   // input loads per row: ICV*PV >= (PC-1)*S + KW
layout(constant_id = 22) const uint WV = 4;    // floats per weight load: 1, 4, 8 (8 needs I64)
layout(constant_id = 23) const uint WP = 1;    // row pitch of the input planes
layout(constant_id = 24) const uint PLANE = 1; // floats per input plane (one n, ci)
layout(constant_id = 25) const uint COP = 4;   // row pitch of the transposed weights
layout(constant_id = 26) const uint SEGX = 1;  // column blocks per output row
layout(constant_id = 27) const uint KHS = 1;   // kernel rows per step: 1 or KH
layout(constant_id = 28) const uint CARRY = 0; // stride 1, KHS 1, PR > 1: rows carried over ky
layout(constant_id = 29) const uint CIU = 1;   // 1x1 kernels: input channels per step (divides CI)
layout(constant_id = 30) const uint VST = 1;   // outputs per store: 1, 2, 4, 8 (2 and 8 need I64);
                                               // divides PC and WO (blocks are aligned to it)

#if I64
layout(std430, binding = 0) readonly buffer X8 { u64vec4 x8[]; };
layout(std430, binding = 1) readonly buffer W8 { u64vec4 w8[]; };
layout(std430, binding = 2) writeonly buffer Y8 { u64vec4 y8[]; };
layout(std430, binding = 2) writeonly buffer Y2 { uint64_t y2[]; };
layout(std430, binding = 2) writeonly buffer Y4 { u64vec2 y4q[]; };
layout(std430, binding = 3) readonly buffer R8 { u64vec4 r8[]; };
layout(std430, binding = 3) readonly buffer R2 { uint64_t r2[]; };
layout(std430, binding = 3) readonly buffer R4 { u64vec2 r4q[]; };

uint64_t pack2(float a, float b) { return packUint2x32(uvec2(floatBitsToUint(a), floatBitsToUint(b))); }
vec2 unpack2(uint64_t t) { return uintBitsToFloat(unpackUint2x32(t)); }

void unpack8(u64vec4 t, out float f[8]) {
    uvec2 a = unpackUint2x32(t.x), b = unpackUint2x32(t.y);
    uvec2 c = unpackUint2x32(t.z), d = unpackUint2x32(t.w);
    f[0] = uintBitsToFloat(a.x); f[1] = uintBitsToFloat(a.y);
    f[2] = uintBitsToFloat(b.x); f[3] = uintBitsToFloat(b.y);
    f[4] = uintBitsToFloat(c.x); f[5] = uintBitsToFloat(c.y);
    f[6] = uintBitsToFloat(d.x); f[7] = uintBitsToFloat(d.y);
}
#else
layout(std430, binding = 2) writeonly buffer Y4 { vec4 y4v[]; };
layout(std430, binding = 3) readonly buffer R4 { vec4 r4v[]; };
#endif

const uint IW = ICV * PV;                      // input floats held per row
const uint RR = (PR - 1u) * STRIDE + KHS;      // input rows per step
const uint ROWB = (HO + PR - 1u) / PR;         // row blocks per image
const uint CO_BLOCKS = (CO + TM - 1u) / TM;

// Loads input row r of the window (IW floats from offset rbase, clamped to the plane).
#if I64
#define LOAD_ROW_I64(r, rbase)                                                                   \
    if (PV == 8u) {                                                                              \
        [[unroll]] for (uint j = 0; j < ICV; j++) {                                              \
            float f[8];                                                                          \
            unpack8(x8[min(((rbase) >> 3) + j, (n * CI + ci) * (PLANE / 8u) + vlast)], f);       \
            [[unroll]] for (uint e = 0; e < 8u; e++) xin[(r) * IW + 8u * j + e] = f[e];          \
        }                                                                                        \
    } else
#else
#define LOAD_ROW_I64(r, rbase)
#endif
#define LOAD_ROW(r, rbase)                                                                       \
    LOAD_ROW_I64(r, rbase)                                                                       \
    if (PV == 4u) {                                                                              \
        [[unroll]] for (uint j = 0; j < ICV; j++) {                                              \
            vec4 v = x4[min(((rbase) >> 2) + j, (n * CI + ci) * (PLANE / 4u) + vlast)];          \
            xin[(r) * IW + 4u * j + 0u] = v.x;                                                   \
            xin[(r) * IW + 4u * j + 1u] = v.y;                                                   \
            xin[(r) * IW + 4u * j + 2u] = v.z;                                                   \
            xin[(r) * IW + 4u * j + 3u] = v.w;                                                   \
        }                                                                                        \
    } else {                                                                                     \
        [[unroll]] for (uint j = 0; j < ICV; j++)                                                \
            xin[(r) * IW + j] = x[min((rbase) + j, (n * CI + ci) * PLANE + vlast)];              \
    }

void main() {
    uint gid = mvk_flat_index();
    uint tiles = pc.n * (ROWB * SEGX);
    uint cb = gid / tiles;
    if (cb >= CO_BLOCKS) return;
    uint t = gid - cb * tiles;
    uint n = t / (ROWB * SEGX);
    t -= n * (ROWB * SEGX);
    uint rb = t / SEGX;
    uint oy0 = rb * PR, ox0 = (t - rb * SEGX) * PC;
    uint co0 = cb * TM;
    // Offset of the block's first input row (tap ky = 0) in plane 0; the last vector of the
    // plane bounds the loads (MODE 0: the last column block may run past the pixels).
    uint xoff = oy0 * STRIDE * WP + ox0 * STRIDE;
    uint vlast = PLANE / PV - 1u;

    float acc[TM * PR * PC];
    [[unroll]] for (uint i = 0; i < TM * PR * PC; i++) acc[i] = 0.0;

    for (uint ci0 = 0; ci0 < CI; ci0 += CIU)
    [[unroll]] for (uint cu = 0; cu < CIU; cu++) {
        uint ci = ci0 + cu;
        uint pbase = (n * CI + ci) * PLANE + xoff;
        // The input window: RR rows of IW floats, row r = input row oy0*S + r + ky0. With CARRY
        // the window slides down one row per ky step: rows 0..RR-2 come from the last step and
        // only row RR-1 is loaded (for ky0 = 0, rows 0..RR-2 are loaded first).
        float xin[RR * IW];
        if (CARRY != 0u) {
            [[unroll]] for (uint r = 0; r + 1u < RR; r++) {
                uint rbase = pbase + r * WP;
                LOAD_ROW(r, rbase)
            }
        }
        for (uint ky0 = 0; ky0 < KH; ky0 += KHS) {
            if (CARRY != 0u) {
                if (ky0 > 0u) {
                    [[unroll]] for (uint i = 0; i < (RR - 1u) * IW; i++) xin[i] = xin[i + IW];
                }
                uint rbase = pbase + (RR - 1u + ky0) * WP;
                LOAD_ROW(RR - 1u, rbase)
            } else {
                [[unroll]] for (uint r = 0; r < RR; r++) {
                    uint rbase = pbase + (r + ky0) * WP;
                    LOAD_ROW(r, rbase)
                }
            }
            // KHS x KW x TM weights: transposed rows k = (ci*KH + ky)*KW + kx, channels co0...
            float wk[KHS * KW * TM];
            [[unroll]] for (uint t = 0; t < KHS * KW; t++) {
                uint wb = ((ci * KH + ky0) * KW + t) * COP + co0;
                [[unroll]] for (uint j = 0; j < TM / WV; j++) {
#if I64
                    if (WV == 8u) {
                        float f[8];
                        unpack8(w8[(wb >> 3) + j], f);
                        [[unroll]] for (uint e = 0; e < 8u; e++) wk[t * TM + 8u * j + e] = f[e];
                    } else
#endif
                    if (WV == 4u) {
                        vec4 v = w4[(wb >> 2) + j];
                        wk[t * TM + 4u * j + 0u] = v.x;
                        wk[t * TM + 4u * j + 1u] = v.y;
                        wk[t * TM + 4u * j + 2u] = v.z;
                        wk[t * TM + 4u * j + 3u] = v.w;
                    } else {
                        wk[t * TM + j] = w[wb + j];
                    }
                }
            }
            // Register sub-blocks of 4 channels x 4 columns run through every tap of the step.
            [[unroll]] for (uint mb = 0; mb < TM; mb += 4u)
                [[unroll]] for (uint r = 0; r < PR; r++)
                    [[unroll]] for (uint pb = 0; pb < PC; pb += 4u) {
                        float s[16];
                        [[unroll]] for (uint i = 0; i < 4u; i++)
                            [[unroll]] for (uint p = 0; p < 4u; p++)
                                if (pb + p < PC) s[i * 4u + p] = acc[((mb + i) * PR + r) * PC + pb + p];
                        [[unroll]] for (uint ky = 0; ky < KHS; ky++)
                            [[unroll]] for (uint kx = 0; kx < KW; kx++)
                                [[unroll]] for (uint i = 0; i < 4u; i++)
                                    [[unroll]] for (uint p = 0; p < 4u; p++)
                                        if (pb + p < PC)
                                            s[i * 4u + p] = fma(wk[(ky * KW + kx) * TM + mb + i],
                                                                xin[(r * STRIDE + ky) * IW + (pb + p) * STRIDE + kx],
                                                                s[i * 4u + p]);
                        [[unroll]] for (uint i = 0; i < 4u; i++)
                            [[unroll]] for (uint p = 0; p < 4u; p++)
                                if (pb + p < PC) acc[((mb + i) * PR + r) * PC + pb + p] = s[i * 4u + p];
                    }
        }
    }

    // Epilogue: y = act(acc + bias); out = scale*y + residual, VST outputs per store (and per
    // residual load) along the output row: stores are per-lane loops too.
    uint ob = n * CO * HOWO;
    [[unroll]] for (uint m = 0; m < TM; m++) {
        uint co = co0 + m;
        if (co >= CO) break;
        float bi = HAS_BIAS ? bias[co] : 0.0;
        float ap = HAS_ACT_PARAM ? act_param[co] : 0.0;
        [[unroll]] for (uint r = 0; r < PR; r++) {
            uint oy = oy0 + r;
            if (oy >= HO) break;
            uint o0 = ob + co * HOWO + oy * WO + ox0;
            [[unroll]] for (uint g = 0; g < PC / VST; g++) {
                if (ox0 + g * VST >= WO) break; // groups are wholly inside or outside
                float v[8]; // VST used (8: glslang checks indices against the default VST)
                [[unroll]] for (uint e = 0; e < VST; e++)
                    v[e] = mvk_act(ACT, acc[(m * PR + r) * PC + g * VST + e] + bi, ap);
                uint o = o0 + g * VST;
                if (VST == 1u) {
                    if (HAS_RES) v[0] = pc.scale * v[0] + res[o];
                    y[o] = v[0];
                }
#if I64
                if (VST == 2u) {
                    if (HAS_RES) {
                        vec2 t = unpack2(r2[o >> 1]);
                        v[0] = pc.scale * v[0] + t.x;
                        v[1] = pc.scale * v[1] + t.y;
                    }
                    y2[o >> 1] = pack2(v[0], v[1]);
                }
                if (VST == 4u) {
                    if (HAS_RES) {
                        u64vec2 t = r4q[o >> 2];
                        vec2 a = unpack2(t.x), b = unpack2(t.y);
                        v[0] = pc.scale * v[0] + a.x;
                        v[1] = pc.scale * v[1] + a.y;
                        v[2] = pc.scale * v[2] + b.x;
                        v[3] = pc.scale * v[3] + b.y;
                    }
                    y4q[o >> 2] = u64vec2(pack2(v[0], v[1]), pack2(v[2], v[3]));
                }
                if (VST == 8u) {
                    if (HAS_RES) {
                        u64vec4 t = r8[o >> 3];
                        vec2 a = unpack2(t.x), b = unpack2(t.y), c = unpack2(t.z), d = unpack2(t.w);
                        v[0] = pc.scale * v[0] + a.x;
                        v[1] = pc.scale * v[1] + a.y;
                        v[2] = pc.scale * v[2] + b.x;
                        v[3] = pc.scale * v[3] + b.y;
                        v[4] = pc.scale * v[4] + c.x;
                        v[5] = pc.scale * v[5] + c.y;
                        v[6] = pc.scale * v[6] + d.x;
                        v[7] = pc.scale * v[7] + d.y;
                    }
                    y8[o >> 3] = u64vec4(pack2(v[0], v[1]), pack2(v[2], v[3]), pack2(v[4], v[5]),
                                         pack2(v[6], v[7]));
                }
#else
                if (VST == 4u) {
                    vec4 t = vec4(v[0], v[1], v[2], v[3]);
                    if (HAS_RES) t = pc.scale * t + r4v[o >> 2];
                    y4v[o >> 2] = t;
                }
#endif
            }
        }
    }
}
