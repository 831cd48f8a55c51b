// Float64 CPU reference for the multi-resolution hash encoding (kernels::HashGrid): the same
// levels, vertex indexing and multilinear weights, written as plain loops; the backward as a
// scatter.
#pragma once

#include "vkgrad/kernels/hash_grid.hpp"

#include <span>
#include <vector>

namespace vkgrad::reference {

std::vector<double> hash_grid_forward(const kernels::HashGridShape& s, uint32_t rows, std::span<const double> x,
                                      std::span<const double> table);
// ∂(Σ dy·y)/∂table, and per element Σ|dy| over its terms (their weights' rounding scales with it).
std::vector<double> hash_grid_backward(const kernels::HashGridShape& s, uint32_t rows, std::span<const double> x,
                                       std::span<const double> dy, std::vector<double>* magnitude = nullptr);

}  // namespace vkgrad::reference
