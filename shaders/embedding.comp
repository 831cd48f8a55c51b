#version 460
// Token embedding (vkgrad::kernels::Embedding): rows of a table looked up by int32 ids, and the
// table gradient as a deterministic scatter (common/fixed_point.glsl). ids [positions],
// table [vocab, dim], y and dy [positions, dim]:
//
//   MODE_FORWARD  y[p][f] = table[ids[p]][f]; an id outside [0, vocab) gives NaN     0 ids, 1 table, 2 y
//   MODE_SCATTER  accum[ids[p]][f] += dy[p][f]; such an id overflows instead          0 ids, 2 dy, 3 accum
//   MODE_GATHER   grads[e] += accum[e] as a real (+inf after an overflow), zeroed     3 accum, 4 grads
//
// A bad id thus shows as a NaN loss and a skipped step, never as a read outside the table.
// Dispatch: flat, (min(ceil(items / 256), 4096), 1, 1) workgroups of 256: the forward's items
// are element pairs of y, the scatter's elements of dy, the gather's elements of the table.
#extension GL_GOOGLE_include_directive : require
#include "common/words.glsl"

layout(local_size_x = 256) in;

layout(constant_id = 16) const uint TABLE_TYPE = TYPE_F32;
layout(constant_id = 18) const uint OUT_TYPE = TYPE_F32;  // y in the forward, dy in the scatter

#define MODE_FORWARD 0u
#define MODE_SCATTER 1u
#define MODE_GATHER 2u

// Mirrors vkgrad::kernels::EmbeddingArgs (include/vkgrad/kernels/embedding.hpp).
layout(push_constant) uniform EmbeddingArgs {
  uint mode;
  uint positions, dim, vocab;
} p;

layout(std430, binding = 0) readonly buffer Ids_block { uint ids[]; };
layout(std430, binding = 1) readonly buffer Table_block { uint table_words[]; };
layout(std430, binding = 2) buffer Out_block { uint out_words[]; };
layout(std430, binding = 3) buffer Accum_block { uint accum[]; };
layout(std430, binding = 4) buffer Grads_block { float grads[]; };

#include "common/out_pairs.glsl"
#define FIXED_OVERFLOW_WORD (2u * p.vocab * p.dim)
#include "common/fixed_point.glsl"

// Element i of y. ids are int32 bits: as uint, a negative id is ≥ vocab too.
float lookup(uint i) {
  const uint id = ids[i / p.dim];
  return id < p.vocab ? LOAD_ELEM(table_words, TABLE_TYPE, id * p.dim + i % p.dim) : uintBitsToFloat(0x7fc00000u);
}

void main() {
  const uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
  const uint n = p.positions * p.dim;
  if (p.mode == MODE_FORWARD) {
    for (uint w = gl_GlobalInvocationID.x; w < (n + 1u) / 2u; w += stride) {
      const bvec2 own = pair_in(w, 0u, n);
      write_out_pair(w, own, vec2(lookup(2u * w), own.y ? lookup(2u * w + 1u) : 0.0), false);
    }
  } else if (p.mode == MODE_SCATTER) {
    for (uint i = gl_GlobalInvocationID.x; i < n; i += stride) {
      const uint id = ids[i / p.dim];
      if (id < p.vocab)
        fixed_add(id * p.dim + i % p.dim, LOAD_ELEM(out_words, OUT_TYPE, i));
      else
        atomicOr(accum[FIXED_OVERFLOW_WORD], 1u);
    }
  } else {
    const bool overflow = fixed_overflowed();
    for (uint e = gl_GlobalInvocationID.x; e < p.vocab * p.dim; e += stride) grads[e] += fixed_take(e, overflow);
  }
}
