#version 460
// Dropout (vkgrad::kernels::Dropout), inverted as PyTorch's: element i is kept when its uniform
// draw u_i ≥ p, and kept elements are scaled by 1/(1 − p):
//
//   MODE_FORWARD   y = x·keep_i/(1 − p)                  0 x, 2 y
//   MODE_BACKWARD  dx (+)= dy·keep_i/(1 − p)             0 dy, 2 dx
//
// u_i comes from Philox4x32-10 (common/philox.glsl) with key = the seed and counter = (i / 4,
// the step's iteration, its micro-batch, salt), word i mod 4: a pure function of the element and
// the step, so the backward recomputes the forward's mask instead of storing it, and a resumed
// run (whose state holds the iteration) draws the same masks. Binding 1 is the TrainState.
// Dispatch: flat, (min(ceil(pairs / 256), 4096), 1, 1) workgroups of 256.
#extension GL_GOOGLE_include_directive : require
#include "common/philox.glsl"
#include "common/train_state.glsl"
#include "common/words.glsl"

layout(local_size_x = 256) in;

layout(constant_id = 16) const uint IN_TYPE = TYPE_F32;
layout(constant_id = 18) const uint OUT_TYPE = TYPE_F32;

#define MODE_FORWARD 0u
#define MODE_BACKWARD 1u
#define FLAG_ACCUMULATE 1u

// Mirrors vkgrad::kernels::DropoutArgs (include/vkgrad/kernels/dropout.hpp).
layout(push_constant) uniform DropoutArgs {
  uint mode;
  uint n;
  float p;
  uint seed_lo, seed_hi, salt;
  uint flags;
} args;

layout(std430, binding = 0) readonly buffer In_block { uint in_words[]; };
layout(std430, binding = 1) readonly buffer State_block { TrainState state; };
layout(std430, binding = 2) buffer Out_block { uint out_words[]; };

#include "common/out_pairs.glsl"

void main() {
  const uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
  const bool accumulate = (args.flags & FLAG_ACCUMULATE) != 0u;
  const float keep_scale = 1.0 / (1.0 - args.p);
  const uvec2 key = uvec2(args.seed_lo, args.seed_hi);
  for (uint w = gl_GlobalInvocationID.x; w < (args.n + 1u) / 2u; w += stride) {
    // Elements 2w and 2w + 1 share a draw of four words.
    const uvec4 r = philox4x32_10(uvec4(w / 2u, state.iteration, state.micro_batch, args.salt), key);
    const uvec2 bits = (w & 1u) == 0u ? r.xy : r.zw;
    const bvec2 own = pair_in(w, 0u, args.n);
    vec2 v = vec2(0.0);
    for (uint h = 0u; h < 2u; ++h)
      if (own[h] && philox_uniform(bits[h]) >= args.p) v[h] = LOAD_ELEM(in_words, IN_TYPE, 2u * w + h) * keep_scale;
    write_out_pair(w, own, v, accumulate);
  }
}
