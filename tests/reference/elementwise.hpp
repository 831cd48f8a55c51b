// Float64 CPU references for the elementwise kernels.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace vkgrad::reference {

// f(x) and f'(x) for a kernels::UnaryOp code: the exact functions (erf, tanh), not the
// kernels' approximations; relu'(0) = 0, gelu_tanh' as PyTorch differentiates it.
double unary(uint32_t op, double x);
double unary_grad(uint32_t op, double x);

// c = a ∘ b for a kernels::BinaryOp code; a is [rows, cols], b [rows, cols] or, with
// broadcast, [cols] applied to every row.
std::vector<double> binary(uint32_t op, std::span<const double> a, std::span<const double> b, uint32_t rows,
                           uint32_t cols, bool broadcast);

// out[j] = Σ_r x[r][j] over x [rows, cols].
std::vector<double> column_sum(std::span<const double> x, uint32_t rows, uint32_t cols);

}  // namespace vkgrad::reference
