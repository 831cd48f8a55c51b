#version 460
// 2-D batch normalization over NCHW tensors (vkgrad::kernels::BatchNorm), fp32 statistics and
// arithmetic whatever the storage. One workgroup per channel (more are strided over); the
// statistics use the first valid = min(params.valid_rows, samples) samples only (the rest of a
// partial batch is padding: its outputs are computed, its input gradients are 0):
//
//   MODE_TRAIN  mean, biased var over the valid samples (two passes, fixed-order tree sums);
//               y = (x − mean)·rsqrt(var + eps)·γ + β; running_mean, running_var move by
//               `momentum` toward mean and the unbiased var; channel 0 counts the batch.
//   MODE_EVAL   y = (x − running_mean)·rsqrt(running_var + eps)·γ + β.
//   MODE_BWD    the statistics again (the same bits as the forward's), then with x̂ the
//               normalized input: dγ += Σ dy·x̂, dβ += Σ dy, and
//               dx (+)= γ·rsqrt(var + eps)·(dy − Σdy/n − x̂·Σ(dy·x̂)/n)   (PyTorch's formula).
//
// Bindings: 0 x, 1 dy, 2 y or dx, 3 γ, 4 β, 5 running_mean, 6 running_var, 7 batches counted,
// 8 dγ, 9 dβ (fp32), 10 the step's LossParams {scale, valid_rows}. Dispatch: (min(channels,
// 65535), 1, 1) workgroups of WORKGROUP_REDUCE_SIZE.
#extension GL_GOOGLE_include_directive : require
#include "common/words.glsl"
#include "common/workgroup_reduce.glsl"

layout(constant_id = 16) const uint X_TYPE = TYPE_F32;      // x, dy, y, dx
layout(constant_id = 17) const uint PARAM_TYPE = TYPE_F32;  // γ, β

#define MODE_TRAIN 0u
#define MODE_EVAL 1u
#define MODE_BWD 2u
#define FLAG_ACCUMULATE 1u
#define FLAG_NO_DX 2u  // backward: only dγ and dβ (the input needs no gradient)

// Mirrors vkgrad::kernels::BatchNormArgs (include/vkgrad/kernels/batch_norm.hpp).
layout(push_constant) uniform BatchNormArgs {
  uint mode;
  uint samples, channels, pixels;
  float eps, momentum;
  uint flags;
} p;

layout(std430, binding = 0) readonly buffer X_block { uint x_words[]; };
layout(std430, binding = 1) readonly buffer Dy_block { uint dy_words[]; };
layout(std430, binding = 2) buffer Out_block { uint out_words[]; };
layout(std430, binding = 3) readonly buffer Gamma_block { uint gamma_words[]; };
layout(std430, binding = 4) readonly buffer Beta_block { uint beta_words[]; };
layout(std430, binding = 5) buffer Mean_block { float running_mean[]; };
layout(std430, binding = 6) buffer Var_block { float running_var[]; };
layout(std430, binding = 7) buffer Count_block { float batches[]; };
layout(std430, binding = 8) buffer Dgamma_block { float dgamma[]; };
layout(std430, binding = 9) buffer Dbeta_block { float dbeta[]; };
layout(std430, binding = 10) readonly buffer Params_block { float scale; uint valid_rows; } params;

float x_at(uint i) { return LOAD_ELEM(x_words, X_TYPE, i); }
float dy_at(uint i) { return LOAD_ELEM(dy_words, X_TYPE, i); }

// Stores element i of y or dx. A channel's elements are contiguous per sample, but with an odd
// pixel count a word's two halves belong to two channels (two workgroups): halves are written
// atomically then.
void store(uint i, float v, bool accumulate) {
  if (X_TYPE == TYPE_F32) {
    out_words[i] = floatBitsToUint(accumulate ? v + uintBitsToFloat(out_words[i]) : v);
    return;
  }
  const uint shift = (i & 1u) * 16u;
  const float r = accumulate ? v + unpackHalf2x16(atomicOr(out_words[i >> 1], 0u))[i & 1u] : v;
  atomicAnd(out_words[i >> 1], ~(0xFFFFu << shift));
  atomicOr(out_words[i >> 1], (pack_half2_rte(vec2(r, 0.0)) & 0xFFFFu) << shift);
}

uint element(uint c, uint j) { return ((j / p.pixels) * p.channels + c) * p.pixels + j % p.pixels; }

// Mean and biased variance of channel c over its first n elements (valid samples × pixels).
vec2 statistics(uint c, uint n) {
  float s = 0.0;
  for (uint j = gl_LocalInvocationID.x; j < n; j += WORKGROUP_REDUCE_SIZE) s += x_at(element(c, j));
  const float mean = workgroup_sum(s) / float(n);
  float q = 0.0;
  for (uint j = gl_LocalInvocationID.x; j < n; j += WORKGROUP_REDUCE_SIZE) {
    const float d = x_at(element(c, j)) - mean;
    q += d * d;
  }
  return vec2(mean, workgroup_sum(q) / float(n));
}

void main() {
  const uint valid = min(params.valid_rows, p.samples);
  const uint n = valid * p.pixels, all = p.samples * p.pixels;
  const bool accumulate = (p.flags & FLAG_ACCUMULATE) != 0u;
  for (uint c = gl_WorkGroupID.x; c < p.channels; c += gl_NumWorkGroups.x) {
    const float gamma = LOAD_ELEM(gamma_words, PARAM_TYPE, c), beta = LOAD_ELEM(beta_words, PARAM_TYPE, c);
    if (p.mode == MODE_EVAL) {
      const float inv = inversesqrt(running_var[c] + p.eps), mean = running_mean[c];
      for (uint j = gl_LocalInvocationID.x; j < all; j += WORKGROUP_REDUCE_SIZE)
        store(element(c, j), (x_at(element(c, j)) - mean) * inv * gamma + beta, false);
      continue;
    }
    if (n == 0u) continue;  // no valid sample: nothing to normalize by
    const vec2 stats = statistics(c, n);
    const float inv = inversesqrt(stats.y + p.eps);
    if (p.mode == MODE_TRAIN) {
      for (uint j = gl_LocalInvocationID.x; j < all; j += WORKGROUP_REDUCE_SIZE)
        store(element(c, j), (x_at(element(c, j)) - stats.x) * inv * gamma + beta, false);
      if (gl_LocalInvocationID.x == 0u) {
        const float unbiased = n > 1u ? stats.y * float(n) / float(n - 1u) : stats.y;
        running_mean[c] = (1.0 - p.momentum) * running_mean[c] + p.momentum * stats.x;
        running_var[c] = (1.0 - p.momentum) * running_var[c] + p.momentum * unbiased;
        if (c == 0u) batches[0] += 1.0;
      }
      continue;
    }
    float sdy = 0.0, sdyx = 0.0;
    for (uint j = gl_LocalInvocationID.x; j < n; j += WORKGROUP_REDUCE_SIZE) {
      const uint i = element(c, j);
      const float g = dy_at(i);
      sdy += g;
      sdyx += g * (x_at(i) - stats.x) * inv;
    }
    sdy = workgroup_sum(sdy);
    sdyx = workgroup_sum(sdyx);
    if (gl_LocalInvocationID.x == 0u) {
      dgamma[c] += sdyx;
      dbeta[c] += sdy;
    }
    if ((p.flags & FLAG_NO_DX) != 0u) continue;
    const float k = gamma * inv, mdy = sdy / float(n), mdyx = sdyx / float(n);
    for (uint j = gl_LocalInvocationID.x; j < all; j += WORKGROUP_REDUCE_SIZE) {
      const uint i = element(c, j);
      const float xhat = (x_at(i) - stats.x) * inv;
      store(i, j < n ? k * (dy_at(i) - mdy - xhat * mdyx) : 0.0, accumulate);
    }
  }
}
