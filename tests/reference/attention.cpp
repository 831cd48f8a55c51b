#include "reference/attention.hpp"

#include <algorithm>
#include <cmath>

namespace vkgrad::reference {

std::vector<double> causal_attention(std::span<const double> q, std::span<const double> k, std::span<const double> v,
                                     uint32_t samples, uint32_t t, uint32_t heads, uint32_t d) {
  const size_t width = size_t(heads) * d;
  std::vector<double> out(size_t(samples) * t * width, 0.0), p(t);
  const double scale = 1.0 / std::sqrt(double(d));
  for (uint32_t s = 0; s < samples; ++s)
    for (uint32_t h = 0; h < heads; ++h)
      for (uint32_t i = 0; i < t; ++i) {
        const auto at = [&](std::span<const double> x, uint32_t pos, uint32_t c) {
          return x[(size_t(s) * t + pos) * width + size_t(h) * d + c];
        };
        double m = -INFINITY, sum = 0;
        for (uint32_t j = 0; j <= i; ++j) {
          p[j] = 0;
          for (uint32_t c = 0; c < d; ++c) p[j] += at(q, i, c) * at(k, j, c);
          p[j] *= scale;
          m = std::max(m, p[j]);
        }
        for (uint32_t j = 0; j <= i; ++j) sum += p[j] = std::exp(p[j] - m);
        for (uint32_t c = 0; c < d; ++c) {
          double y = 0;
          for (uint32_t j = 0; j <= i; ++j) y += p[j] / sum * at(v, j, c);
          out[(size_t(s) * t + i) * width + size_t(h) * d + c] = y;
        }
      }
  return out;
}

}  // namespace vkgrad::reference
