#version 460
// Encodings of coordinates for coordinate networks (vkgrad::kernels::Encoding), in fp32:
//
//   Gaussian Fourier features  y[r][j] = sin(2π·B[j]·x[r]), y[r][F + j] = cos(2π·B[j]·x[r])
//                              0 x [rows, in] (fp32)   1 B [F, in] (fp32)   2 y [rows, 2F]
//
// The argument is formed and reduced in fp32 (common/unary.glsl): fp16 would lose the phase of
// the high frequencies. Flat over element pairs of y (common/out_pairs.glsl). Dispatch:
// (min(ceil(pairs / 256), 4096), 1, 1) workgroups of 256.
#extension GL_GOOGLE_include_directive : require
#include "common/unary.glsl"
#include "common/words.glsl"

layout(local_size_x = 256) in;

layout(constant_id = 18) const uint OUT_TYPE = TYPE_F32;

// Mirrors vkgrad::kernels::EncodingArgs (include/vkgrad/kernels/encoding.hpp).
layout(push_constant) uniform EncodingArgs {
  uint rows, in_dims, frequencies;
} p;

layout(std430, binding = 0) readonly buffer X_block { float x[]; };
layout(std430, binding = 1) readonly buffer B_block { float b[]; };
layout(std430, binding = 2) buffer Out_block { uint out_words[]; };

#include "common/out_pairs.glsl"

float feature(uint e) {
  const uint width = 2u * p.frequencies;
  const uint r = e / width, j = e % width, f = j % p.frequencies;
  float z = 0.0;
  for (uint k = 0u; k < p.in_dims; ++k) z += b[f * p.in_dims + k] * x[r * p.in_dims + k];
  z *= 6.283185307179586;
  return j < p.frequencies ? unary(z, UNARY_SIN) : unary(z, UNARY_COS);
}

void main() {
  const uint n = p.rows * 2u * p.frequencies;
  const uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
  for (uint w = gl_GlobalInvocationID.x; w < (n + 1u) / 2u; w += stride) {
    const bvec2 own = pair_in(w, 0u, n);
    write_out_pair(w, own, vec2(feature(2u * w), own.y ? feature(2u * w + 1u) : 0.0), false);
  }
}
