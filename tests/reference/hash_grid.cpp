#include "reference/hash_grid.hpp"

#include <algorithm>
#include <cmath>
#include <functional>

namespace vkgrad::reference {
namespace {

// Calls f(output element, table element, weight) for every interpolation term.
void each_term(const kernels::HashGridShape& s, uint32_t rows, std::span<const double> x,
               const std::function<void(size_t, size_t, double)>& f) {
  const auto levels = kernels::hash_grid_levels(s);
  const uint64_t primes[3] = {1, 2654435761u, 805459861u};
  for (uint32_t r = 0; r < rows; ++r)
    for (uint32_t l = 0; l < s.levels; ++l) {
      const auto& info = levels[l];
      for (uint32_t corner = 0; corner < (1u << s.dims); ++corner) {
        double w = 1;
        uint64_t dense = 0, stride = 1, hashed = 0;
        for (uint32_t d = 0; d < s.dims; ++d) {
          const double pos = double(float(x[r * s.dims + d])) * info.resolution;
          const auto cell = uint64_t(std::clamp(std::floor(pos), 0.0, double(info.resolution - 1)));
          const double frac = pos - double(cell);
          const uint64_t up = (corner >> d) & 1, c = cell + up;
          w *= up ? frac : 1 - frac;
          dense += c * stride;
          stride *= info.resolution + 1;
          hashed ^= (c * primes[d]) & 0xFFFFFFFFu;
        }
        const uint64_t index = info.dense ? dense : (hashed & (info.entries - 1));
        for (uint32_t feature = 0; feature < s.features; ++feature)
          f((size_t(r) * s.levels + l) * s.features + feature, (info.offset + index) * s.features + feature, w);
      }
    }
}

}  // namespace

std::vector<double> hash_grid_forward(const kernels::HashGridShape& s, uint32_t rows, std::span<const double> x,
                                      std::span<const double> table) {
  std::vector<double> y(size_t(rows) * s.levels * s.features, 0.0);
  each_term(s, rows, x, [&](size_t out, size_t entry, double w) { y[out] += w * table[entry]; });
  return y;
}

std::vector<double> hash_grid_backward(const kernels::HashGridShape& s, uint32_t rows, std::span<const double> x,
                                       std::span<const double> dy, std::vector<double>* magnitude) {
  const size_t elements = size_t(kernels::hash_grid_entries(kernels::hash_grid_levels(s))) * s.features;
  std::vector<double> g(elements, 0.0);
  if (magnitude) magnitude->assign(elements, 0.0);
  each_term(s, rows, x, [&](size_t out, size_t entry, double w) {
    g[entry] += w * dy[out];
    if (magnitude) (*magnitude)[entry] += std::abs(dy[out]);
  });
  return g;
}

}  // namespace vkgrad::reference
