// Helpers for kernels that reduce along rows (pooling, softmax, layernorm, argmax, top-k).
// GPU class: one workgroup per row, gl_WorkGroupSize.x a power of two <= 256, tree reductions
// in shared memory. CPU class: one invocation per row, a plain loop (no barriers).

shared float mvk_red_f[256];
shared uint mvk_red_u[256];

float mvk_wg_sum(float v) {
    uint t = gl_LocalInvocationID.x;
    mvk_red_f[t] = v;
    barrier();
    for (uint s = gl_WorkGroupSize.x / 2; s > 0; s >>= 1) {
        if (t < s) mvk_red_f[t] += mvk_red_f[t + s];
        barrier();
    }
    float r = mvk_red_f[0];
    barrier();
    return r;
}

float mvk_wg_max(float v) {
    uint t = gl_LocalInvocationID.x;
    mvk_red_f[t] = v;
    barrier();
    for (uint s = gl_WorkGroupSize.x / 2; s > 0; s >>= 1) {
        if (t < s) mvk_red_f[t] = max(mvk_red_f[t], mvk_red_f[t + s]);
        barrier();
    }
    float r = mvk_red_f[0];
    barrier();
    return r;
}

// Order of (value, index) pairs for argmax/top-k: larger value first, then lower index.
bool mvk_before(float av, uint ai, float bv, uint bi) {
    return av > bv || (av == bv && ai < bi);
}

// The first pair in mvk_before order over the workgroup; every invocation gets it.
void mvk_wg_best(inout float v, inout uint i) {
    uint t = gl_LocalInvocationID.x;
    mvk_red_f[t] = v;
    mvk_red_u[t] = i;
    barrier();
    for (uint s = gl_WorkGroupSize.x / 2; s > 0; s >>= 1) {
        if (t < s && mvk_before(mvk_red_f[t + s], mvk_red_u[t + s], mvk_red_f[t], mvk_red_u[t])) {
            mvk_red_f[t] = mvk_red_f[t + s];
            mvk_red_u[t] = mvk_red_u[t + s];
        }
        barrier();
    }
    v = mvk_red_f[0];
    i = mvk_red_u[0];
    barrier();
}

#define MVK_NEG_INF uintBitsToFloat(0xff800000u)
