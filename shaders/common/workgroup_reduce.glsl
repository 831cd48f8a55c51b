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

#define REDUCE_SUM 0u
#define REDUCE_MAX 1u

// vec2, so that column sums combine an fp16 word's element pair in one tree.
shared vec2 reduce_scratch[WORKGROUP_REDUCE_SIZE];

// Combines v over the invocations whose index is congruent modulo `lanes` (a power of two,
// 1 ≤ lanes ≤ WORKGROUP_REDUCE_SIZE): each receives the result of its class. The tree halves
// the active invocations per level and stops at `lanes`, so lanes = 1 is the whole workgroup.
vec2 workgroup_reduce(vec2 v, uint lanes, uint op) {
  const uint t = gl_LocalInvocationID.x;
  reduce_scratch[t] = v;
  barrier();
  for (uint width = WORKGROUP_REDUCE_SIZE / 2u; width >= lanes; width /= 2u) {
    if (t < width) {
      const vec2 other = reduce_scratch[t + width];
      reduce_scratch[t] = op == REDUCE_MAX ? max(reduce_scratch[t], other) : reduce_scratch[t] + other;
    }
    barrier();
  }
  const vec2 total = reduce_scratch[t % lanes];
  barrier();  // before the next reduction overwrites the scratch
  return total;
}

float workgroup_sum(float v) { return workgroup_reduce(vec2(v, 0.0), 1u, REDUCE_SUM).x; }
float workgroup_max(float v) { return workgroup_reduce(vec2(v, 0.0), 1u, REDUCE_MAX).x; }

#endif
