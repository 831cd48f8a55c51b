// Float64 CPU reference for layer normalization over the last dimension (kernels::LayerNorm):
// the definitions written out, with the backward by the textbook formula.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace vkgrad::reference {

// y [rows, dim] = (x − mean)/sqrt(biased var + eps)·γ + β per row.
std::vector<double> layer_norm_forward(std::span<const double> x, std::span<const double> gamma,
                                       std::span<const double> beta, uint32_t rows, uint32_t dim, double eps);

struct LayerNormGrads {
  std::vector<double> dx, dgamma, dbeta;
};
// The gradients of Σ dy·y with respect to x, γ and β.
LayerNormGrads layer_norm_backward(std::span<const double> x, std::span<const double> dy, std::span<const double> gamma,
                                   uint32_t rows, uint32_t dim, double eps);

}  // namespace vkgrad::reference
