#include "reference/layer_norm.hpp"

#include <cmath>

namespace vkgrad::reference {
namespace {

// (mean, 1/sqrt(var + eps)) of row r.
std::pair<double, double> statistics(std::span<const double> x, uint32_t r, uint32_t dim, double eps) {
  double mean = 0, var = 0;
  for (uint32_t j = 0; j < dim; ++j) mean += x[size_t(r) * dim + j];
  mean /= dim;
  for (uint32_t j = 0; j < dim; ++j) var += (x[size_t(r) * dim + j] - mean) * (x[size_t(r) * dim + j] - mean);
  return {mean, 1.0 / std::sqrt(var / dim + eps)};
}

}  // namespace

std::vector<double> layer_norm_forward(std::span<const double> x, std::span<const double> gamma,
                                       std::span<const double> beta, uint32_t rows, uint32_t dim, double eps) {
  std::vector<double> y(size_t(rows) * dim);
  for (uint32_t r = 0; r < rows; ++r) {
    const auto [mean, rstd] = statistics(x, r, dim, eps);
    for (uint32_t j = 0; j < dim; ++j) {
      const size_t i = size_t(r) * dim + j;
      y[i] = (x[i] - mean) * rstd * gamma[j] + beta[j];
    }
  }
  return y;
}

LayerNormGrads layer_norm_backward(std::span<const double> x, std::span<const double> dy, std::span<const double> gamma,
                                   uint32_t rows, uint32_t dim, double eps) {
  LayerNormGrads g{std::vector<double>(size_t(rows) * dim), std::vector<double>(dim), std::vector<double>(dim)};
  for (uint32_t r = 0; r < rows; ++r) {
    const auto [mean, rstd] = statistics(x, r, dim, eps);
    double sum_g = 0, sum_gx = 0;
    for (uint32_t j = 0; j < dim; ++j) {
      const size_t i = size_t(r) * dim + j;
      const double xhat = (x[i] - mean) * rstd;
      g.dgamma[j] += dy[i] * xhat;
      g.dbeta[j] += dy[i];
      sum_g += dy[i] * gamma[j];
      sum_gx += dy[i] * gamma[j] * xhat;
    }
    for (uint32_t j = 0; j < dim; ++j) {
      const size_t i = size_t(r) * dim + j;
      const double xhat = (x[i] - mean) * rstd;
      g.dx[i] = rstd * (dy[i] * gamma[j] - sum_g / dim - xhat * sum_gx / dim);
    }
  }
  return g;
}

}  // namespace vkgrad::reference
