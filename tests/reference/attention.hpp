// Float64 CPU reference for multi-head self-attention as GPT-2 computes it (the graph's composed
// causal_self_attention and the fused kernels::Attention): per sample, per head,
// softmax(scale·q·kᵀ, keys after the query masked when causal)·v, and its backward.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace vkgrad::reference {

struct AttentionDims {
  uint32_t samples = 1, t = 1, heads = 1, d = 1;
  bool causal = true;
  double scale = 0;  // 0: 1/√d
};

// q, k, v and the result are [samples, T, heads·d] (heads side by side along the last dimension).
std::vector<double> attention(std::span<const double> q, std::span<const double> k, std::span<const double> v,
                              const AttentionDims& dims);

// softmax(q·kᵀ/√d, causal)·v.
std::vector<double> causal_attention(std::span<const double> q, std::span<const double> k, std::span<const double> v,
                                     uint32_t samples, uint32_t t, uint32_t heads, uint32_t d);

// Gradients of Σ dy·y with respect to q, k and v, where the softmax backward's row term
// δ_i = dy_i·y_i is taken from the y given (the fused kernel's definition: FlashAttention-2
// reads the stored output). `*_mag` bound each result's rounding: the sum of its terms'
// absolute values (|dy·v| + |δ| standing for |dy·v − δ|).
struct AttentionGrads {
  std::vector<double> dq, dk, dv, dq_mag, dk_mag, dv_mag;
};
AttentionGrads attention_backward(std::span<const double> q, std::span<const double> k, std::span<const double> v,
                                  std::span<const double> y, std::span<const double> dy, const AttentionDims& dims);

}  // namespace vkgrad::reference
