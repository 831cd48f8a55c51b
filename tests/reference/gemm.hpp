// Float64 CPU reference for kernels::Gemm, and the error bound its tests use.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace vkgrad::reference {

struct GemmProblem {
  uint32_t m = 0, n = 0, k = 0, batch = 1;
  bool trans_a = false, trans_b = false;
  uint32_t lda = 0, ldb = 0, ldc = 0;
  uint32_t stride_a = 0, stride_b = 0, stride_c = 0;
  double alpha = 1, beta = 0;
  bool bias = false;
  uint32_t activation = 0;  // kernels::Activation
};

double activate(double x, uint32_t activation);

// C as the GEMM leaves it (same layout as `c`, padding untouched), in float64, and for each
// element Σ_k |α·op(A)[r][k]·op(B)[k][c]| + |β·C| + |bias|: the magnitude its rounding errors
// scale with.
struct GemmResult {
  std::vector<double> c;
  std::vector<double> magnitude;
  std::vector<double> pre_activation;
};
GemmResult gemm(const GemmProblem& p, std::span<const double> a, std::span<const double> b, std::span<const double> c,
                std::span<const double> bias);

}  // namespace vkgrad::reference
