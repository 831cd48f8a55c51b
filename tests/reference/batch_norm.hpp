// Float64 CPU reference for 2-D batch normalization with PyTorch's semantics over the first
// `valid` samples of an NCHW batch (the rest is padding: normalized with the same statistics,
// gradient 0).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace vkgrad::reference {

struct BatchNormCase {
  uint32_t samples = 1, valid = 1, channels = 1, pixels = 1;
  double eps = 1e-5, momentum = 0.1;
};

struct BatchNormForward {
  std::vector<double> y, mean, var;  // var biased
  std::vector<double> running_mean, running_var;
};

// Training (batch statistics, running statistics updated from `running_*`) or evaluation.
BatchNormForward batch_norm_forward(const BatchNormCase& c, std::span<const double> x, std::span<const double> gamma,
                                    std::span<const double> beta, std::span<const double> running_mean,
                                    std::span<const double> running_var, bool training);

struct BatchNormBackward {
  std::vector<double> dx, dgamma, dbeta;
};
// The gradients of Σ dy·y (training forward) with respect to x, γ and β.
BatchNormBackward batch_norm_backward(const BatchNormCase& c, std::span<const double> x,
                                      std::span<const double> gamma, std::span<const double> dy);

}  // namespace vkgrad::reference
