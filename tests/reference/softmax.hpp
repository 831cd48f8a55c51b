// Float64 CPU reference for kernels::Softmax.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace vkgrad::reference {

// Row-wise softmax of x [rows, cols] (max-subtracted, so any finite logits are fine); `causal`:
// row r over columns j ≤ r mod cols only, 0 elsewhere.
std::vector<double> softmax(std::span<const double> x, uint32_t rows, uint32_t cols, bool causal = false);
// dx = y ⊙ (dy − Σ_j dy_j·y_j) per row, given the forward's output y.
std::vector<double> softmax_backward(std::span<const double> y, std::span<const double> dy, uint32_t rows,
                                     uint32_t cols);

}  // namespace vkgrad::reference
