#version 460
// Multi-resolution hash encoding (Instant-NGP; vkgrad::kernels::HashGrid), fp32 arithmetic:
//
//   MODE_FORWARD   y[r][l·F + f] = Σ_corners w_c · table[level l, vertex c][f]      0 x, 1 levels, 2 table, 3 y
//   MODE_SCATTER   accum[level l, vertex c][f] += w_c · dy[r][l·F + f]             0 x, 1 levels, 3 dy, 4 accum
//   MODE_GATHER    grads[e] += accum[e] as a real, and accum[e] = 0                4 accum, 5 grads
//
// Level l is levels[l] (resolution, first entry, entries, dense): common/hash_grid.glsl finds
// the cell corners and their multilinear weights.
//
// The scatter is deterministic: 64-bit fixed-point sums on integer atomics, converted once by
// the gather, with overflow reported as +inf gradients (common/fixed_point.glsl).
// Dispatch: flat, (min(ceil(items / 256), 4096), 1, 1) workgroups of 256; the forward and the
// scatter have one item per (row, level), the gather one per table element.
#extension GL_GOOGLE_include_directive : require
#include "common/words.glsl"

layout(local_size_x = 256) in;

layout(constant_id = 16) const uint TABLE_TYPE = TYPE_F32;
layout(constant_id = 18) const uint OUT_TYPE = TYPE_F32;  // y in forward, dy in scatter

#define MODE_FORWARD 0u
#define MODE_SCATTER 1u
#define MODE_GATHER 2u

// Mirrors vkgrad::kernels::HashGridArgs (include/vkgrad/kernels/hash_grid.hpp).
layout(push_constant) uniform HashGridArgs {
  uint mode;
  uint rows, dims, levels, features;
  uint entries;  // table entries in all levels (gather)
} p;

layout(std430, binding = 0) readonly buffer X_block { float x[]; };
layout(std430, binding = 1) readonly buffer Levels_block { uvec4 level_info[]; };
layout(std430, binding = 2) readonly buffer Table_block { uint table_words[]; };
layout(std430, binding = 3) buffer Out_block { uint out_words[]; };
layout(std430, binding = 4) buffer Accum_block { uint accum[]; };  // [entries·F][lo, hi], overflow
layout(std430, binding = 5) buffer Grads_block { float grads[]; };

#include "common/out_pairs.glsl"
#define FIXED_OVERFLOW_WORD (2u * p.entries * p.features)
#include "common/fixed_point.glsl"
#include "common/hash_grid.glsl"

// Table element (its first feature's) of corner `corner_bits` of x[r]'s cell at level l, and its weight.
uint corner(uint r, uint l, uint corner_bits, out float weight) {
  float coords[3] = float[3](0.0, 0.0, 0.0);
  for (uint d = 0u; d < p.dims; ++d) coords[d] = x[r * p.dims + d];
  return hash_grid_entry(coords, p.dims, level_info[l], corner_bits, weight) * p.features;
}

// Elements i and i + 1 of the table (i even when features are): one word in fp16.
vec2 table_pair(uint i) {
  return TABLE_TYPE == TYPE_F16 ? unpackHalf2x16(table_words[i >> 1u])
                                : vec2(uintBitsToFloat(table_words[i]), uintBitsToFloat(table_words[i + 1u]));
}

// Output block `item` = (row r, level l): its corners are found once for all its features.
void forward_item(uint item) {
  const uint r = item / p.levels, l = item % p.levels;
  uint at[8];
  float w[8];
  const uint corners = 1u << p.dims;
  for (uint c = 0u; c < corners; ++c) at[c] = corner(r, l, c, w[c]);
  const uint first = item * p.features, end = first + p.features;
  if (p.features % 2u == 0u) {  // whole words, and table pairs that start a word
    for (uint f = 0u; f < p.features; f += 2u) {
      vec2 v = vec2(0.0);
      for (uint c = 0u; c < corners; ++c) v += w[c] * table_pair(at[c] + f);
      write_out_pair((first + f) / 2u, bvec2(true), v, false);
    }
    return;
  }
  // Odd feature counts: a block's first or last element may share its word with a neighbour's.
  for (uint e = first & ~1u; e < end; e += 2u) {
    const bvec2 own = pair_in(e / 2u, first, end);
    vec2 v = vec2(0.0);
    for (uint c = 0u; c < corners; ++c)
      for (uint h = 0u; h < 2u; ++h)
        if (own[h]) v[h] += w[c] * LOAD_ELEM(table_words, TABLE_TYPE, at[c] + e + h - first);
    write_out_pair(e / 2u, own, v, false);
  }
}

void main() {
  const uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
  if (p.mode == MODE_FORWARD) {
    for (uint item = gl_GlobalInvocationID.x; item < p.rows * p.levels; item += stride) forward_item(item);
  } else if (p.mode == MODE_SCATTER) {
    for (uint item = gl_GlobalInvocationID.x; item < p.rows * p.levels; item += stride) {
      const uint r = item / p.levels, l = item % p.levels;
      for (uint c = 0u; c < (1u << p.dims); ++c) {
        float w;
        const uint at = corner(r, l, c, w);
        for (uint f = 0u; f < p.features; ++f)
          fixed_add(at + f, w * LOAD_ELEM(out_words, OUT_TYPE, (r * p.levels + l) * p.features + f));
      }
    }
  } else {
    const bool overflow = fixed_overflowed();
    for (uint e = gl_GlobalInvocationID.x; e < p.entries * p.features; e += stride)
      grads[e] += fixed_take(e, overflow);
  }
}
