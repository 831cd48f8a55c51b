#include "numerics.hpp"

#include <cmath>
#include <cstring>
#include <sstream>

namespace vkgrad::test {

float round_half(float x) { return kernels::half_value(kernels::half_bits(x)); }

std::vector<double> round_for(kernels::ElemType t, std::span<const double> values) {
  std::vector<double> out;
  for (double v : values)
    out.push_back(t == kernels::ElemType::F32 ? double(float(v)) : double(round_half(float(v))));
  return out;
}

std::vector<std::byte> encode(kernels::ElemType t, std::span<const double> values) {
  std::vector<std::byte> out(kernels::elem_bytes(t) * values.size());
  for (size_t i = 0; i < values.size(); ++i) {
    if (t == kernels::ElemType::F32) {
      const float f = float(values[i]);
      std::memcpy(out.data() + 4 * i, &f, 4);
    } else {
      const uint16_t h = kernels::half_bits(float(values[i]));
      std::memcpy(out.data() + 2 * i, &h, 2);
    }
  }
  return out;
}

std::vector<double> decode(kernels::ElemType t, std::span<const std::byte> bytes, size_t n) {
  std::vector<double> out(n);
  for (size_t i = 0; i < n; ++i) {
    if (t == kernels::ElemType::F32) {
      float f;
      std::memcpy(&f, bytes.data() + 4 * i, 4);
      out[i] = f;
    } else {
      uint16_t h;
      std::memcpy(&h, bytes.data() + 2 * i, 2);
      out[i] = kernels::half_value(h);
    }
  }
  return out;
}

double central_difference(std::vector<double>& v, size_t i, double h, const std::function<double()>& f) {
  const double keep = v[i];
  v[i] = keep + h;
  const double up = f();
  v[i] = keep - h;
  const double down = f();
  v[i] = keep;
  return (up - down) / (2 * h);
}

std::vector<double> uniform(size_t n, double lo, double hi, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> dist(lo, hi);
  std::vector<double> out(n);
  for (double& v : out) v = dist(rng);
  return out;
}

::testing::AssertionResult all_close(std::span<const double> got, std::span<const double> ref, double abs, double rel) {
  std::vector<double> tol(ref.size());
  for (size_t i = 0; i < ref.size(); ++i) tol[i] = abs + rel * std::fabs(ref[i]);
  return all_close(got, ref, tol);
}

::testing::AssertionResult all_close(std::span<const double> got, std::span<const double> ref,
                                     std::span<const double> tols) {
  if (got.size() != ref.size() || tols.size() != ref.size())
    return ::testing::AssertionFailure() << "sizes differ: got " << got.size() << ", reference " << ref.size();
  size_t misses = 0, worst = 0;
  double worst_excess = -1;
  std::ostringstream first;
  for (size_t i = 0; i < got.size(); ++i) {
    const double tol = tols[i];
    const double err = std::fabs(got[i] - ref[i]);
    if (!(err <= tol)) {  // also catches NaN
      if (misses < 5) first << "\n  [" << i << "] got " << got[i] << ", want " << ref[i] << " ± " << tol;
      ++misses;
    }
    const double excess = std::isnan(err) ? INFINITY : err / tol;
    if (excess > worst_excess) worst_excess = excess, worst = i;
  }
  if (misses == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << misses << " of " << got.size() << " elements off" << first.str() << "\n  worst [" << worst << "] got " << got[worst]
                                       << ", want " << ref[worst];
}

}  // namespace vkgrad::test
