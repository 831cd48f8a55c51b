#include "elementwise.hpp"

#include <cmath>

namespace vkgrad::reference {

std::vector<double> axpy(double a, std::span<const double> x, std::span<const double> y) {
  std::vector<double> out(y.begin(), y.end());
  for (size_t i = 0; i < x.size(); ++i) out[i] += a * x[i];
  return out;
}

double sum(std::span<const double> x) {
  double s = 0;
  for (double v : x) s += v;
  return s;
}

double sum_abs(std::span<const double> x) {
  double s = 0;
  for (double v : x) s += std::fabs(v);
  return s;
}

}  // namespace vkgrad::reference
