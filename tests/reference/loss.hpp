// Float64 CPU reference for kernels::Loss: per-row losses, PyTorch's 'mean', and the scaled
// gradient of the mean.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace vkgrad::reference {

struct LossProblem {
  uint32_t kind = 0;  // kernels::LossKind: 0 cross-entropy, 1 MSE, 2 L1
  uint32_t rows = 0, cols = 0;
  uint32_t valid_rows = 0;  // rows at and beyond it are padding (loss and gradient 0)
  double scale = 1;         // the gradient's loss scale
  uint32_t mean_rows = 0;   // what the mean divides by (rows), where not the valid rows (0)
};

// Cross-entropy reads `labels` (rows entries; one outside [0, cols) gives NaN), MSE and L1
// read `target` [rows, cols]; the other span may be empty.
std::vector<double> loss_rows(const LossProblem& p, std::span<const double> pred, std::span<const double> target,
                              std::span<const int32_t> labels);
// Σ of the valid rows' losses / N, N = valid rows (cross-entropy) or valid rows·cols.
double loss_mean(const LossProblem& p, std::span<const double> row_loss);
// scale · ∂ loss_mean / ∂ pred; L1 takes sign(0) = 0.
std::vector<double> loss_backward(const LossProblem& p, std::span<const double> pred, std::span<const double> target,
                                  std::span<const int32_t> labels);

}  // namespace vkgrad::reference
