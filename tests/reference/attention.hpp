// Float64 CPU reference for causal multi-head self-attention as GPT-2 computes it (the graph's
// causal_self_attention and, later, the fused kernel): per sample, per head,
// softmax(q·kᵀ/√d with keys after the query masked)·v.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace vkgrad::reference {

// q, k, v and the result are [samples, T, heads·d] (heads side by side along the last dimension).
std::vector<double> causal_attention(std::span<const double> q, std::span<const double> k, std::span<const double> v,
                                     uint32_t samples, uint32_t t, uint32_t heads, uint32_t d);

}  // namespace vkgrad::reference
