// Float64 reference of an MLP as vkgrad's Graph::linear builds it (weights [out, in], bias
// [out]; the activation between layers, none after the last) with a mean loss, forward and
// backward, for checking the trainer's gradients and updates.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace vkgrad::reference {

enum class MlpActivation { Relu, Gelu, GeluTanh, Tanh, Sigmoid };
enum class MlpLoss { CrossEntropy, Mse, L1 };

struct Mlp {
  std::vector<uint32_t> sizes;  // in, hidden..., out
  MlpActivation activation = MlpActivation::Relu;
  MlpLoss loss = MlpLoss::CrossEntropy;
  std::vector<std::vector<double>> weights, biases;  // per layer
};

struct MlpGradients {
  double loss = 0;
  std::vector<std::vector<double>> weights, biases;
};

// x: rows × sizes[0]; labels (CrossEntropy) or targets (rows × out).
MlpGradients mlp_gradients(const Mlp& m, std::span<const double> x, std::span<const int32_t> labels,
                           std::span<const double> targets, uint32_t rows);
double mlp_loss(const Mlp& m, std::span<const double> x, std::span<const int32_t> labels,
                std::span<const double> targets, uint32_t rows);

}  // namespace vkgrad::reference
