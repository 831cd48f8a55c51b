// Float64 CPU references for the elementwise and reduction kernels.
#pragma once

#include <span>
#include <vector>

namespace vkgrad::reference {

// y[i] = a·x[i] + y[i]
std::vector<double> axpy(double a, std::span<const double> x, std::span<const double> y);
double sum(std::span<const double> x);
double sum_abs(std::span<const double> x);

}  // namespace vkgrad::reference
