// Reductions across one workgroup of WORKGROUP_REDUCE_SIZE invocations, through shared memory,
// as a fixed tree: the same partials give the same bits on every run (no atomics). Every
// invocation passes its partial and receives the total. Call from workgroup-uniform control
// flow only (they contain barriers). The size is specialization constant 0 and the
// workgroup's x size (a power of two, ≤ 256; vkgrad::kernels::reduce_workgroup_size): short rows
// get small workgroups, since every level of the tree is a barrier. Always specialize it, even
// to the default: Mesa 26.1's lavapipe ignores barriers in a LocalSizeId workgroup whose
// constant was left unspecialized (measured: the tree then sums stale shared memory).
#ifndef VKGRAD_WORKGROUP_REDUCE_GLSL
#define VKGRAD_WORKGROUP_REDUCE_GLSL

layout(local_size_x_id = 0) in;
layout(constant_id = 0) const uint WORKGROUP_REDUCE_SIZE = 256u;

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
