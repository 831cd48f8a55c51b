#include "gemm.hpp"

#include <cmath>
#include <numbers>

namespace vkgrad::reference {

double activate(double x, uint32_t activation) {
  switch (activation) {
    case 1: return x > 0 ? x : 0;
    case 2: return 0.5 * x * (1 + std::erf(x / std::numbers::sqrt2));
    case 3: return 0.5 * x * (1 + std::tanh(std::sqrt(2 / std::numbers::pi) * (x + 0.044715 * x * x * x)));
    default: return x;
  }
}

GemmResult gemm(const GemmProblem& p, std::span<const double> a, std::span<const double> b, std::span<const double> c,
                std::span<const double> bias) {
  GemmResult out{std::vector<double>(c.begin(), c.end()), std::vector<double>(c.size(), 0.0),
                 std::vector<double>(c.size(), 0.0)};
  for (uint32_t t = 0; t < p.batch; ++t) {
    for (uint32_t r = 0; r < p.m; ++r) {
      for (uint32_t col = 0; col < p.n; ++col) {
        double sum = 0, mag = 0;
        for (uint32_t k = 0; k < p.k; ++k) {
          const double av = a[t * p.stride_a + (p.trans_a ? k * p.lda + r : r * p.lda + k)];
          const double bv = b[t * p.stride_b + (p.trans_b ? col * p.ldb + k : k * p.ldb + col)];
          sum += av * bv;
          mag += std::fabs(av * bv);
        }
        const size_t i = t * p.stride_c + r * p.ldc + col;
        double v = p.alpha * sum;
        mag = std::fabs(p.alpha) * mag;
        if (p.beta != 0) {
          v += p.beta * c[i];
          mag += std::fabs(p.beta * c[i]);
        }
        if (p.bias) {
          v += bias[col];
          mag += std::fabs(bias[col]);
        }
        out.pre_activation[i] = v;
        out.c[i] = activate(v, p.activation);
        out.magnitude[i] = mag;
      }
    }
  }
  return out;
}

}  // namespace vkgrad::reference
