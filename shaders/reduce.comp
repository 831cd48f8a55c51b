#version 460
// Sum of n elements in fp32, one partial sum per workgroup: partials[workgroup] = Σ of the
// pairs it strides over. Run once over the input, then once (ELEM_F32) over the partials with
// a single workgroup. Bindings: 0 x [n] (read), 1 partials [workgroups] fp32 (write).
// The tree order is fixed, so results are deterministic for a given n and workgroup count.
#extension GL_GOOGLE_include_directive : require
#include "common/elem.glsl"

layout(local_size_x = 256) in;

layout(push_constant) uniform Args {
  uint n;  // elements
} args;

ELEM_BUFFER(0, readonly, x);
layout(std430, binding = 1) writeonly buffer partials_block { float partials[]; };

shared float sums[256];

void main() {
  const uint lane = gl_LocalInvocationID.x;
  const uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
  float s = 0.0;
  for (uint i = gl_GlobalInvocationID.x; i < pair_count(args.n); i += stride) {
    const vec2 v = LOAD2(x, i, args.n);
    // LOAD2 of the packed form does not mask the odd element's padding; do it here.
    s += v.x + ((2u * i + 1u < args.n) ? v.y : 0.0);
  }
  sums[lane] = s;
  barrier();
  for (uint width = gl_WorkGroupSize.x / 2u; width > 0u; width /= 2u) {
    if (lane < width) sums[lane] += sums[lane + width];
    barrier();
  }
  if (lane == 0u) partials[gl_WorkGroupID.x] = sums[0];
}
