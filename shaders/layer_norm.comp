#version 460
// Layer normalization over the last dimension (vkgrad::kernels::LayerNorm), fp32 statistics and
// arithmetic whatever the storage. x, y, dy, dx are [rows, dim]; γ and β [dim]:
//
//   MODE_FORWARD     y = (x − mean)·rstd·γ + β, per row: mean and the biased variance in two
//                    passes, rstd = 1/sqrt(var + eps) (PyTorch's).
//   MODE_BWD_DX      the row's statistics again (the same bits as the forward's), kept in
//                    stats[row] = (mean, rstd) for MODE_BWD_PARAMS; unless FLAG_NO_DX, with
//                    x̂ = (x − mean)·rstd and g = dy·γ:  dx (+)= rstd·(g − mean(g) − x̂·mean(g·x̂)).
//   MODE_BWD_PARAMS  dγ[j] += Σ_r dy[r][j]·x̂[r][j] and dβ[j] += Σ_r dy[r][j].
//
// The row modes give a row to a workgroup (more rows are strided over) and combine partials in
// a fixed tree; the parameter mode gives a workgroup 32 columns × WORKGROUP_REDUCE_SIZE / 32 row
// slices, combined the same way: deterministic, no atomics but those that write a lone fp16
// half (common/out_pairs.glsl, odd dim). Bindings: 0 x, 1 dy, 2 y or dx, 3 γ, 4 β, 5 stats
// (fp32 pairs), 6 dγ, 7 dβ (fp32). Dispatch: rows: (min(rows, 65535), 1, 1); parameters:
// (ceil(dim / 32), 1, 1), with WORKGROUP_REDUCE_SIZE ≥ 32.
#extension GL_GOOGLE_include_directive : require
#include "common/words.glsl"
#include "common/workgroup_reduce.glsl"

layout(constant_id = 16) const uint X_TYPE = TYPE_F32;      // x
layout(constant_id = 17) const uint PARAM_TYPE = TYPE_F32;  // γ, β
layout(constant_id = 18) const uint OUT_TYPE = TYPE_F32;    // y, dx
// dy apart from x: under mixed precision x is the fp32 residual stream and dy the fp16
// gradient of what a GEMM reads.
layout(constant_id = 19) const uint DY_TYPE = TYPE_F32;

#define MODE_FORWARD 0u
#define MODE_BWD_DX 1u
#define MODE_BWD_PARAMS 2u
#define FLAG_ACCUMULATE 1u
#define FLAG_NO_DX 2u

// Mirrors vkgrad::kernels::LayerNormArgs (include/vkgrad/kernels/layer_norm.hpp).
layout(push_constant) uniform LayerNormArgs {
  uint mode;
  uint rows, dim;
  float eps;
  uint flags;
} p;

layout(std430, binding = 0) readonly buffer X_block { uint x_words[]; };
layout(std430, binding = 1) readonly buffer Dy_block { uint dy_words[]; };
layout(std430, binding = 2) buffer Out_block { uint out_words[]; };
layout(std430, binding = 3) readonly buffer Gamma_block { uint gamma_words[]; };
layout(std430, binding = 4) readonly buffer Beta_block { uint beta_words[]; };
layout(std430, binding = 5) buffer Stats_block { vec2 stats[]; };
layout(std430, binding = 6) buffer Dgamma_block { float dgamma[]; };
layout(std430, binding = 7) buffer Dbeta_block { float dbeta[]; };

#include "common/out_pairs.glsl"

float x_at(uint i) { return LOAD_ELEM(x_words, X_TYPE, i); }
float dy_at(uint i) { return LOAD_ELEM(dy_words, DY_TYPE, i); }
float gamma_at(uint j) { return LOAD_ELEM(gamma_words, PARAM_TYPE, j); }
float beta_at(uint j) { return LOAD_ELEM(beta_words, PARAM_TYPE, j); }

// (mean, rstd) of the row starting at element `begin`, the same bits in every mode.
vec2 row_statistics(uint begin) {
  const uint tid = gl_LocalInvocationID.x;
  float s = 0.0;
  for (uint j = tid; j < p.dim; j += WORKGROUP_REDUCE_SIZE) s += x_at(begin + j);
  const float mean = workgroup_sum(s) / float(p.dim);
  float q = 0.0;
  for (uint j = tid; j < p.dim; j += WORKGROUP_REDUCE_SIZE) {
    const float d = x_at(begin + j) - mean;
    q += d * d;
  }
  return vec2(mean, inversesqrt(workgroup_sum(q) / float(p.dim) + p.eps));
}

void rows_mode() {
  const uint tid = gl_LocalInvocationID.x;
  const bool accumulate = (p.flags & FLAG_ACCUMULATE) != 0u;
  for (uint r = gl_WorkGroupID.x; r < p.rows; r += gl_NumWorkGroups.x) {
    const uint begin = r * p.dim, end = begin + p.dim;
    const vec2 st = row_statistics(begin);
    // The pairs holding any of this row's elements; the first and last may be shared.
    const uint first_pair = begin / 2u, pair_end = (end + 1u) / 2u;
    if (p.mode == MODE_FORWARD) {
      for (uint w = first_pair + tid; w < pair_end; w += WORKGROUP_REDUCE_SIZE) {
        const bvec2 own = pair_in(w, begin, end);
        vec2 y = vec2(0.0);
        for (uint h = 0u; h < 2u; ++h) {
          const uint i = 2u * w + h;
          if (own[h]) y[h] = (x_at(i) - st.x) * st.y * gamma_at(i - begin) + beta_at(i - begin);
        }
        write_out_pair(w, own, y, false);
      }
      continue;
    }
    if (tid == 0u) stats[r] = st;
    if ((p.flags & FLAG_NO_DX) != 0u) continue;
    float sg = 0.0, sgx = 0.0;  // Σ g and Σ g·x̂
    for (uint j = tid; j < p.dim; j += WORKGROUP_REDUCE_SIZE) {
      const float g = dy_at(begin + j) * gamma_at(j);
      sg += g;
      sgx += g * (x_at(begin + j) - st.x) * st.y;
    }
    const vec2 sums = workgroup_reduce(vec2(sg, sgx), 1u, REDUCE_SUM) / float(p.dim);
    for (uint w = first_pair + tid; w < pair_end; w += WORKGROUP_REDUCE_SIZE) {
      const bvec2 own = pair_in(w, begin, end);
      vec2 dx = vec2(0.0);
      for (uint h = 0u; h < 2u; ++h) {
        const uint i = 2u * w + h;
        if (own[h]) dx[h] = st.y * (dy_at(i) * gamma_at(i - begin) - sums.x - (x_at(i) - st.x) * st.y * sums.y);
      }
      write_out_pair(w, own, dx, accumulate);
    }
  }
}

#define PARAM_COLUMNS 32u

void params_mode() {
  const uint lane = gl_LocalInvocationID.x % PARAM_COLUMNS;
  const uint slice = gl_LocalInvocationID.x / PARAM_COLUMNS;
  const uint slices = WORKGROUP_REDUCE_SIZE / PARAM_COLUMNS;
  const uint j = gl_WorkGroupID.x * PARAM_COLUMNS + lane;
  vec2 s = vec2(0.0);  // (Σ dy·x̂, Σ dy)
  if (j < p.dim) {
    for (uint r = slice; r < p.rows; r += slices) {
      const vec2 st = stats[r];
      const float dy = dy_at(r * p.dim + j);
      s += vec2(dy * (x_at(r * p.dim + j) - st.x) * st.y, dy);
    }
  }
  const vec2 total = workgroup_reduce(s, PARAM_COLUMNS, REDUCE_SUM);
  if (slice == 0u && j < p.dim) {
    dgamma[j] += total.x;
    dbeta[j] += total.y;
  }
}

void main() {
  if (p.mode == MODE_BWD_PARAMS) params_mode();
  else rows_mode();
}
