#version 450
#extension GL_GOOGLE_include_directive : require
// LINEAR for CPU-type devices (llvmpipe): y[n][o] = act(sum_f x[n][f] w[o][f] + bias[o]).
//
// llvmpipe runs invocations as SIMD lanes and turns every storage-buffer load into a loop over
// the lanes with one scalar load per component, so the cost is the number of per-lane vector
// loads, not the FMAs. Hence: no shared memory, no barriers, a TM x TN register block per
// invocation (TM rows of x, TN rows of W), and the widest loads the layout allows along F:
// KC = 8 floats per u64vec4 load (needs shaderInt64, F % 8 == 0), 4 per vec4 (F % 4 == 0),
// or 1. Lanes share nothing; the workgroup is 8 invocations (one llvmpipe SIMD row), wx of them
// along O and 8 / wx along N (wx a push constant, so shapes share pipelines).
// Keep TM * TN <= 256: larger private arrays gave wrong results on lavapipe 22.3.6. The K loop
// runs F / KC times; llvmpipe silently stops loops after 65535 iterations per invocation, so
// linear.c sends longer F elsewhere (see engine/ops/rows.h).
//! variant linear_cpu_k1 -DKC=1
//! variant linear_cpu_k4 -DKC=4
//! variant linear_cpu_k8 -DKC=8
#if KC == 8
#extension GL_ARB_gpu_shader_int64 : require
#endif
#include "common.glsl"

layout(constant_id = 3) const int TM = 16;
layout(constant_id = 4) const int TN = 16;
layout(constant_id = 5) const int ACT = 0; // enum mvk_act
layout(constant_id = 6) const bool HAS_BIAS = false;
layout(constant_id = 7) const bool HAS_PARAM = false;
layout(constant_id = 8) const bool OUT4 = false; // O % 4 == 0 and TN % 4 == 0: vec4 stores

#if KC == 8
#define CHUNK u64vec4
#elif KC == 4
#define CHUNK vec4
#else
#define CHUNK float
#endif
layout(std430, binding = 0) readonly buffer X { CHUNK x[]; };
layout(std430, binding = 1) readonly buffer W { CHUNK w[]; };
layout(std430, binding = 2) readonly buffer Bias { float bias[]; };
layout(std430, binding = 3) readonly buffer Param { float aparam[]; };
layout(std430, binding = 4) writeonly buffer Y { float y[]; };
layout(std430, binding = 5) writeonly buffer Y4 { vec4 y4[]; };
// The epilogue is specialised too: runtime switches in the unrolled 16 x 16 epilogue made the
// shader three to five times slower to compile on llvmpipe (seconds per pipeline).
layout(push_constant) uniform Push { uint n, f, o, tiles_n, wx; } p;

#if KC == 8
vec4 lo8(u64vec4 t) {
    return vec4(uintBitsToFloat(unpackUint2x32(t.x)), uintBitsToFloat(unpackUint2x32(t.y)));
}
vec4 hi8(u64vec4 t) {
    return vec4(uintBitsToFloat(unpackUint2x32(t.z)), uintBitsToFloat(unpackUint2x32(t.w)));
}
#endif

float dot4(vec4 a, vec4 b, float s) {
    s = fma(a.x, b.x, s);
    s = fma(a.y, b.y, s);
    s = fma(a.z, b.z, s);
    return fma(a.w, b.w, s);
}

void main() {
    // Tiles walk N fastest so a tile's W rows stay in cache while x streams past.
    uint tile = mvk_flat_group();
    uint tn = tile % p.tiles_n, to = tile / p.tiles_n;
    uint lane = gl_LocalInvocationID.x, wy = gl_WorkGroupSize.x / p.wx;
    uint nb = (tn * wy + lane / p.wx) * TM;
    uint ob = (to * p.wx + lane % p.wx) * TN;
    uint fk = p.f / KC;
    // Rows past the end are clamped to the last one (loaded, never stored): no branches.
    uint xr[TM];
    uint wr[TN];
    for (int i = 0; i < TM; i++) xr[i] = min(nb + i, p.n - 1) * fk;
    for (int j = 0; j < TN; j++) wr[j] = min(ob + j, p.o - 1) * fk;
    float acc[TM][TN];
    for (int i = 0; i < TM; i++)
        for (int j = 0; j < TN; j++) acc[i][j] = 0.0;

    for (uint k = 0; k < fk; k++) {
#if KC == 8
        vec4 alo[TM], ahi[TM];
        for (int i = 0; i < TM; i++) {
            u64vec4 t = x[xr[i] + k];
            alo[i] = lo8(t);
            ahi[i] = hi8(t);
        }
        for (int j = 0; j < TN; j++) {
            u64vec4 t = w[wr[j] + k];
            vec4 blo = lo8(t), bhi = hi8(t);
            for (int i = 0; i < TM; i++) acc[i][j] = dot4(ahi[i], bhi, dot4(alo[i], blo, acc[i][j]));
        }
#elif KC == 4
        vec4 a[TM];
        for (int i = 0; i < TM; i++) a[i] = x[xr[i] + k];
        for (int j = 0; j < TN; j++) {
            vec4 b = w[wr[j] + k];
            for (int i = 0; i < TM; i++) acc[i][j] = dot4(a[i], b, acc[i][j]);
        }
#else
        float a[TM];
        for (int i = 0; i < TM; i++) a[i] = x[xr[i] + k];
        for (int j = 0; j < TN; j++) {
            float b = w[wr[j] + k];
            for (int i = 0; i < TM; i++) acc[i][j] = fma(a[i], b, acc[i][j]);
        }
#endif
    }

    // Bias and activation parameter once per column, not once per output.
    float bj[TN], pj[TN];
    for (int j = 0; j < TN; j++) {
        uint o = min(ob + j, p.o - 1);
        bj[j] = HAS_BIAS ? bias[o] : 0.0;
        pj[j] = HAS_PARAM ? aparam[o] : 0.0;
    }
    // Flat guards (no break): an unrolled loop with breaks nests 256 levels deep and takes
    // seconds longer to compile.
    for (int i = 0; i < TM; i++) {
        uint n = nb + i;
        if (OUT4) {
            for (int j = 0; j < TN; j += 4) {
                uint o = ob + j;
                vec4 v = vec4(acc[i][j], acc[i][j + 1], acc[i][j + 2], acc[i][j + 3]);
                v += vec4(bj[j], bj[j + 1], bj[j + 2], bj[j + 3]);
                if (n < p.n && o < p.o)
                    y4[(n * p.o + o) / 4] = vec4(mvk_act(ACT, v.x, pj[j]), mvk_act(ACT, v.y, pj[j + 1]),
                                                 mvk_act(ACT, v.z, pj[j + 2]), mvk_act(ACT, v.w, pj[j + 3]));
            }
        } else {
            for (int j = 0; j < TN; j++) {
                uint o = ob + j;
                if (n < p.n && o < p.o) y[n * p.o + o] = mvk_act(ACT, acc[i][j] + bj[j], pj[j]);
            }
        }
    }
}
