// Float64 CPU reference for the token embedding (kernels::Embedding): the lookup, and its
// gradient as a plain scatter-add.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace vkgrad::reference {

std::vector<double> embedding_forward(std::span<const int32_t> ids, std::span<const double> table, uint32_t dim);
// ∂(Σ dy·y)/∂table [vocab, dim].
std::vector<double> embedding_backward(std::span<const int32_t> ids, std::span<const double> dy, uint32_t vocab,
                                       uint32_t dim);

}  // namespace vkgrad::reference
