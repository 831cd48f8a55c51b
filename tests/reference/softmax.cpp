#include "softmax.hpp"

#include <algorithm>
#include <cmath>

namespace vkgrad::reference {

std::vector<double> softmax(std::span<const double> x, uint32_t rows, uint32_t cols, bool causal) {
  std::vector<double> y(size_t(rows) * cols, 0.0);
  for (uint32_t r = 0; r < rows; ++r) {
    const auto row = x.subspan(size_t(r) * cols, causal ? r % cols + 1 : cols);
    const double m = *std::max_element(row.begin(), row.end());
    double s = 0;
    for (double v : row) s += std::exp(v - m);
    for (size_t j = 0; j < row.size(); ++j) y[size_t(r) * cols + j] = std::exp(row[j] - m) / s;
  }
  return y;
}

std::vector<double> softmax_backward(std::span<const double> y, std::span<const double> dy, uint32_t rows,
                                     uint32_t cols) {
  std::vector<double> dx(size_t(rows) * cols);
  for (uint32_t r = 0; r < rows; ++r) {
    const size_t base = size_t(r) * cols;
    double dot = 0;
    for (uint32_t j = 0; j < cols; ++j) dot += dy[base + j] * y[base + j];
    for (uint32_t j = 0; j < cols; ++j) dx[base + j] = y[base + j] * (dy[base + j] - dot);
  }
  return dx;
}

}  // namespace vkgrad::reference
