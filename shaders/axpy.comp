#version 460
// y = a·x + y over n elements; fp32 arithmetic whatever the storage (common/elem.glsl).
// Bindings: 0 x [n] (read), 1 y [n] (read-write). Grid-stride over element pairs.
#extension GL_GOOGLE_include_directive : require
#include "common/elem.glsl"

layout(local_size_x = 256) in;

layout(push_constant) uniform Args {
  uint n;   // elements
  float a;
} args;

ELEM_BUFFER(0, readonly, x);
ELEM_BUFFER(1, , y);

void main() {
  const uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
  for (uint i = gl_GlobalInvocationID.x; i < pair_count(args.n); i += stride) {
    const vec2 r = args.a * LOAD2(x, i, args.n) + LOAD2(y, i, args.n);
    STORE2(y, i, args.n, r);
  }
}
