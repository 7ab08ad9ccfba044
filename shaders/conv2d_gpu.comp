#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
// conv2d for GPUs: implicit GEMM with shared-memory tiles. A workgroup computes a BM x BN tile
// of the output (BM output channels x BN output pixels, pixels flattened over batch and space);
// per K step of BK it stages a BK x BM tile of the weights and a BK x BN tile of the im2col
// matrix (gathered from x on the fly, prologue applied, zero padding) in shared memory, then
// each thread accumulates a TM x TN register block. engine/ops/conv2d.c picks the tiles from
// maxComputeWorkGroupInvocations and maxComputeSharedMemorySize.
// Requires: THREADS = (BM/TM)*(BN/TN) = local size x, THREADS % BN == 0, THREADS % BK == 0,
// (BM*BK) % THREADS == 0, (BK*BN) % THREADS == 0, TM and TN multiples of 4.
#include "common.glsl"
#include "conv2d_common.glsl"

layout(constant_id = 17) const uint BM = 64;
layout(constant_id = 18) const uint BN = 64;
layout(constant_id = 19) const uint BK = 16;
layout(constant_id = 20) const uint TM = 4;
layout(constant_id = 21) const uint TN = 4;

const uint THREADS = (BM / TM) * (BN / TN);
const uint K = CI * KK;
const uint M_BLOCKS = (CO + BM - 1u) / BM;

// vec4 elements: the inner loop reads TM/4 + TN/4 vectors per k (one wide shared load each).
shared vec4 As[BK * BM / 4u];
shared vec4 Bs[BK * BN / 4u];

void main() {
    uint tid = gl_LocalInvocationID.x;
    uint npix = pc.n * HOWO;
    uint nblocks = (npix + BN - 1u) / BN;
    uint g = mvk_flat_group();
    uint mb = g / nblocks;
    if (mb >= M_BLOCKS) return; // uniform over the workgroup: no barrier is skipped by half of it
    uint m0 = mb * BM;
    uint p0 = (g - mb * nblocks) * BN;

    // The im2col column this thread gathers: fixed pixel, rows bk0, bk0 + THREADS/BN, ...
    uint bn = tid % BN;
    uint bk0 = tid / BN;
    uint pix = p0 + bn;
    bool pok = pix < npix;
    uint pn = pok ? pix / HOWO : 0u;
    uint prem = pix - pn * HOWO;
    uint poy = prem / WO;
    int iy0 = int(poy * STRIDE) - int(PAD);
    int ix0 = int((prem - poy * WO) * STRIDE) - int(PAD);
    uint xb = pn * CI * HW;
    // The weight column this thread loads: fixed k offset, rows am0, am0 + THREADS/BK, ...
    uint ak = tid % BK;
    uint am0 = tid / BK;

    uint tm0 = (tid / (BN / TN)) * TM;
    uint tn0 = (tid % (BN / TN)) * TN;
    float acc[TM * TN];
    [[unroll]] for (uint i = 0; i < TM * TN; i++) acc[i] = 0.0;

    for (uint k0 = 0; k0 < K; k0 += BK) {
        [[unroll]] for (uint i = 0; i < (BM * BK) / THREADS; i++) {
            uint mm = am0 + i * (THREADS / BK);
            uint co = m0 + mm, k = k0 + ak;
            As[(ak * BM + mm) >> 2][mm & 3u] = co < CO && k < K ? w[co * K + k] : 0.0;
        }
        [[unroll]] for (uint i = 0; i < (BK * BN) / THREADS; i++) {
            uint kk = bk0 + i * (THREADS / BN);
            uint k = k0 + kk;
            float v = 0.0;
            if (pok && k < K) {
                uint ci = k / KK;
                uint tap = k - ci * KK;
                uint ky = tap / KW;
                int iy = iy0 + int(ky), ix = ix0 + int(tap - ky * KW);
                if (iy >= 0 && iy < int(H) && ix >= 0 && ix < int(W))
                    v = pre_apply(pre_load(ci), x[xb + ci * HW + uint(iy) * W + uint(ix)]);
            }
            Bs[(kk * BN + bn) >> 2][bn & 3u] = v;
        }
        barrier();
        // Unrolled by 4 inside a rolled loop: enough independent FMAs for a GPU, and a body
        // small enough for llvmpipe (where the tests run this kernel) to JIT quickly.
        [[dont_unroll]] for (uint kk0 = 0; kk0 < BK; kk0 += 4u)
        [[unroll]] for (uint u = 0; u < 4u; u++) {
            uint kk = kk0 + u;
            float a[TM], b[TN];
            [[unroll]] for (uint i = 0; i < TM; i += 4u) {
                vec4 t = As[(kk * BM + tm0 + i) >> 2];
                a[i] = t.x; a[i + 1u] = t.y; a[i + 2u] = t.z; a[i + 3u] = t.w;
            }
            [[unroll]] for (uint j = 0; j < TN; j += 4u) {
                vec4 t = Bs[(kk * BN + tn0 + j) >> 2];
                b[j] = t.x; b[j + 1u] = t.y; b[j + 2u] = t.z; b[j + 3u] = t.w;
            }
            [[unroll]] for (uint i = 0; i < TM; i++)
                [[unroll]] for (uint j = 0; j < TN; j++)
                    acc[i * TN + j] = fma(a[i], b[j], acc[i * TN + j]);
        }
        barrier();
    }

    [[unroll]] for (uint j = 0; j < TN; j++) {
        uint p = p0 + tn0 + j;
        if (p >= npix) break;
        uint on = p / HOWO;
        uint orem = p - on * HOWO;
        [[unroll]] for (uint i = 0; i < TM; i++) {
            uint co = m0 + tm0 + i;
            if (co >= CO) break;
            store_out((on * CO + co) * HOWO + orem, co, acc[i * TN + j]);
        }
    }
}
