// Shared by the conv2d kernels (conv2d_cpu.comp, conv2d_gpu.comp): shape constants, bindings,
// the fused prologue (per-input-channel affine + activation, applied as inputs are loaded) and
// the fused epilogue (bias, activation, scaled residual add). engine/ops/conv2d.c fills these.
//
// Implicit GEMM view: out[n][co][p] = sum_k W[co][k] * X_col[k][n,p], k = (ci, ky, kx),
// with X_col never materialised: kernels read x directly (zero padding by bounds checks).

// Shape (specialisation constants 3..12). Batch N is a push constant so pipelines are shared
// across batch sizes.
layout(constant_id = 3) const uint CI = 1;
layout(constant_id = 4) const uint H = 1;
layout(constant_id = 5) const uint W = 1;
layout(constant_id = 6) const uint CO = 1;
layout(constant_id = 7) const uint HO = 1;
layout(constant_id = 8) const uint WO = 1;
layout(constant_id = 9) const uint KH = 1;
layout(constant_id = 10) const uint KW = 1;
layout(constant_id = 11) const uint STRIDE = 1;
layout(constant_id = 12) const uint PAD = 0;
// Fusion (13..16): PRE bit 0 pre_scale, bit 1 pre_shift, bit 2 pre_param present;
// EPI bit 0 bias, bit 1 act_param, bit 2 residual present. Activations as enum mvk_act.
layout(constant_id = 13) const uint PRE = 0;
layout(constant_id = 14) const int PRE_ACT = 0;
layout(constant_id = 15) const uint EPI = 0;
layout(constant_id = 16) const int ACT = 0;
// Kernel-specific constants start at 17.

const uint KK = KH * KW;
const uint HW = H * W;
const uint HOWO = HO * WO;
const bool HAS_PRE_SCALE = (PRE & 1u) != 0u;
const bool HAS_PRE_SHIFT = (PRE & 2u) != 0u;
const bool HAS_PRE_PARAM = (PRE & 4u) != 0u;
const bool HAS_BIAS = (EPI & 1u) != 0u;
const bool HAS_ACT_PARAM = (EPI & 2u) != 0u;
const bool HAS_RES = (EPI & 4u) != 0u;

layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 0) readonly buffer X4 { vec4 x4[]; };
layout(std430, binding = 1) readonly buffer Wt { float w[]; };
layout(std430, binding = 1) readonly buffer Wt4 { vec4 w4[]; };
layout(std430, binding = 2) writeonly buffer Y { float y[]; };
layout(std430, binding = 3) readonly buffer R { float res[]; };
layout(std430, binding = 4) readonly buffer B { float bias[]; };
layout(std430, binding = 5) readonly buffer AP { float act_param[]; };
// The prologue vectors: one binding, each vector at an element offset (push constants): either
// one tensor bound alone, a span of one buffer holding all of them, or a packed workspace copy.
layout(std430, binding = 6) readonly buffer PreV { float prev[]; };

layout(push_constant) uniform Push {
    uint n;           // batch
    float scale;      // residual scale
    uint pre_scale_off, pre_shift_off, pre_param_off;
} pc;

// Prologue of input channel ci: v -> pre_act(scale*v + shift). Padded taps bypass it (they are
// zeros of the *activated* tensor, as in PyTorch).
struct PreCh { float s, t, p; };

PreCh pre_load(uint ci) {
    PreCh c;
    c.s = HAS_PRE_SCALE ? prev[pc.pre_scale_off + ci] : 1.0;
    c.t = HAS_PRE_SHIFT ? prev[pc.pre_shift_off + ci] : 0.0;
    c.p = HAS_PRE_PARAM ? prev[pc.pre_param_off + ci] : 0.0;
    return c;
}

float pre_apply(PreCh c, float v) {
    if (HAS_PRE_SCALE) v *= c.s;
    if (HAS_PRE_SHIFT) v += c.t;
    return mvk_act(PRE_ACT, v, c.p);
}

// Epilogue: y = act(acc + bias) ; out = scale*y + residual. o is the flat output index.
void store_out(uint o, uint co, float acc) {
    float v = acc;
    if (HAS_BIAS) v += bias[co];
    v = mvk_act(ACT, v, HAS_ACT_PARAM ? act_param[co] : 0.0);
    if (HAS_RES) v = pc.scale * v + res[o];
    y[o] = v;
}
