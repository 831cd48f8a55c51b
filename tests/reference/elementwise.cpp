#include "elementwise.hpp"

#include "gemm.hpp"

#include <cmath>
#include <numbers>

namespace vkgrad::reference {

namespace {
// 1 − tanh² x without the cancellation that makes it 0 in float64 beyond |x| ≈ 19.
double sech2(double x) {
  const double c = std::cosh(x);
  return 1 / (c * c);
}
}  // namespace

double unary(uint32_t op, double x) {
  switch (op) {
    case 4: return std::tanh(x);
    case 5: return 1 / (1 + std::exp(-x));
    case 6: return std::sin(x);
    case 7: return std::cos(x);
    default: return activate(x, op);  // 0-3 are the GEMM epilogue's activations
  }
}

double unary_grad(uint32_t op, double x) {
  switch (op) {
    case 1: return x > 0 ? 1 : 0;
    case 2: {
      const double cdf = 0.5 * (1 + std::erf(x / std::numbers::sqrt2));
      const double pdf = std::exp(-0.5 * x * x) / std::sqrt(2 * std::numbers::pi);
      return cdf + x * pdf;
    }
    case 3: {
      const double beta = std::sqrt(2 / std::numbers::pi), kappa = 0.044715;
      const double u = beta * (x + kappa * x * x * x);
      return 0.5 * (1 + std::tanh(u)) + 0.5 * x * sech2(u) * beta * (1 + 3 * kappa * x * x);
    }
    case 4: return sech2(x);
    case 5: {
      // σ(1 − σ) as e^-|x| / (1 + e^-|x|)²: 1 − σ rounds to 0 in float64 too once x > 37.
      const double t = std::exp(-std::fabs(x));
      return t / ((1 + t) * (1 + t));
    }
    case 6: return std::cos(x);
    case 7: return -std::sin(x);
    default: return 1;
  }
}

std::vector<double> binary(uint32_t op, std::span<const double> a, std::span<const double> b, uint32_t rows,
                           uint32_t cols, bool broadcast) {
  std::vector<double> c(size_t(rows) * cols);
  for (size_t i = 0; i < c.size(); ++i) {
    const double bv = b[broadcast ? i % cols : i];
    c[i] = op == 1 ? a[i] * bv : a[i] + bv;
  }
  return c;
}

std::vector<double> column_sum(std::span<const double> x, uint32_t rows, uint32_t cols) {
  std::vector<double> out(cols, 0.0);
  for (uint32_t r = 0; r < rows; ++r)
    for (uint32_t j = 0; j < cols; ++j) out[j] += x[size_t(r) * cols + j];
  return out;
}

}  // namespace vkgrad::reference
