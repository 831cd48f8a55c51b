// Reductions across one workgroup of WORKGROUP_REDUCE_SIZE (256) invocations, through shared
// memory, as a fixed tree: the same partials give the same bits on every run (no atomics).
// Every invocation passes its partial and receives the total. Call from workgroup-uniform
// control flow only (they contain barriers); the shader's local_size_x must be 256.
#ifndef VKGRAD_WORKGROUP_REDUCE_GLSL
#define VKGRAD_WORKGROUP_REDUCE_GLSL

#define WORKGROUP_REDUCE_SIZE 256u

shared float reduce_scratch[WORKGROUP_REDUCE_SIZE];

float workgroup_sum(float v) {
  const uint t = gl_LocalInvocationID.x;
  reduce_scratch[t] = v;
  barrier();
  for (uint width = WORKGROUP_REDUCE_SIZE / 2u; width > 0u; width /= 2u) {
    if (t < width) reduce_scratch[t] += reduce_scratch[t + width];
    barrier();
  }
  const float total = reduce_scratch[0];
  barrier();  // before the next reduction overwrites the scratch
  return total;
}

float workgroup_max(float v) {
  const uint t = gl_LocalInvocationID.x;
  reduce_scratch[t] = v;
  barrier();
  for (uint width = WORKGROUP_REDUCE_SIZE / 2u; width > 0u; width /= 2u) {
    if (t < width) reduce_scratch[t] = max(reduce_scratch[t], reduce_scratch[t + width]);
    barrier();
  }
  const float total = reduce_scratch[0];
  barrier();
  return total;
}

#endif
