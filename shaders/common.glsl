// Shared by every kernel: workgroup size from specialisation constants 0..2 (the engine picks
// it per device), and the flat index of an invocation when the grid was split over x and y
// because of maxComputeWorkGroupCount.
layout(local_size_x_id = 0, local_size_y_id = 1, local_size_z_id = 2) in;

uint mvk_flat_group() {
    return gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x;
}

uint mvk_flat_index() {
    return mvk_flat_group() * gl_WorkGroupSize.x + gl_LocalInvocationID.x;
}

// Activations, numbered as enum mvk_act.
#define ACT_NONE 0
#define ACT_RELU 1
#define ACT_PRELU 2
#define ACT_SRELU 3
#define ACT_GELU 4

float mvk_erf(float x) {
    // Abramowitz-Stegun 7.1.26 is too coarse for 1e-5 checks; use a rational approximation
    // with max error ~1.2e-7 (W. J. Cody's form through erfc for |x| > 0.5 is overkill here).
    float ax = abs(x);
    float t = 1.0 / (1.0 + 0.5 * ax);
    float y = 1.0 - t * exp(-ax * ax - 1.26551223 + t * (1.00002368 + t * (0.37409196 +
              t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 +
              t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
    return x >= 0.0 ? y : -y;
}

float mvk_act(int act, float x, float param) {
    if (act == ACT_RELU) return max(x, 0.0);
    if (act == ACT_PRELU) return x >= 0.0 ? x : param * x;
    if (act == ACT_SRELU) return max(x, param);
    if (act == ACT_GELU) return 0.5 * x * (1.0 + mvk_erf(x * 0.70710678118654752));
    return x;
}
