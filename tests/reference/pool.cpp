#include "reference/pool.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace vkgrad::reference {
namespace {

struct Window {
  int64_t lo, hi, count;
};

Window window(const PoolShape& s, uint32_t o, bool vertical) {
  const int64_t size = vertical ? s.h : s.w, outs = vertical ? s.out_h() : s.out_w();
  if (s.adaptive) {
    const int64_t lo = int64_t(o) * size / outs, hi = ((int64_t(o) + 1) * size + outs - 1) / outs;
    return {lo, hi, hi - lo};
  }
  const int64_t k = vertical ? s.kh : s.kw, st = vertical ? s.sh : s.sw, pad = vertical ? s.ph : s.pw;
  const int64_t start = int64_t(o) * st - pad, end = std::min(start + k, size + pad);
  return {std::max<int64_t>(start, 0), std::min(end, size), end - start};
}

// Calls f(output index, window in flat input indices (row-major), divisor) for every output.
template <class F>
void each_output(const PoolShape& s, F&& f) {
  const uint32_t oh = s.out_h(), ow = s.out_w();
  for (uint32_t plane = 0; plane < s.planes; ++plane)
    for (uint32_t y = 0; y < oh; ++y)
      for (uint32_t x = 0; x < ow; ++x) {
        const Window wy = window(s, y, true), wx = window(s, x, false);
        std::vector<size_t> in;
        for (int64_t i = wy.lo; i < wy.hi; ++i)
          for (int64_t j = wx.lo; j < wx.hi; ++j) in.push_back((size_t(plane) * s.h + size_t(i)) * s.w + size_t(j));
        f((size_t(plane) * oh + y) * ow + x, in, double(wy.count * wx.count));
      }
}

size_t argmax(std::span<const double> x, const std::vector<size_t>& in) {
  size_t best = in.front();
  double v = -std::numeric_limits<double>::infinity();
  for (size_t i : in)
    if (x[i] > v || std::isnan(x[i])) v = x[i], best = i;
  return best;
}

}  // namespace

std::vector<double> pool_forward(const PoolShape& s, std::span<const double> x) {
  std::vector<double> y(size_t(s.planes) * s.out_h() * s.out_w());
  each_output(s, [&](size_t o, const std::vector<size_t>& in, double count) {
    if (s.max) {
      y[o] = x[argmax(x, in)];
    } else {
      double sum = 0;
      for (size_t i : in) sum += x[i];
      y[o] = sum / count;
    }
  });
  return y;
}

std::vector<double> pool_backward(const PoolShape& s, std::span<const double> x, std::span<const double> dy) {
  std::vector<double> dx(size_t(s.planes) * s.h * s.w, 0.0);
  each_output(s, [&](size_t o, const std::vector<size_t>& in, double count) {
    if (s.max) {
      dx[argmax(x, in)] += dy[o];
    } else {
      for (size_t i : in) dx[i] += dy[o] / count;
    }
  });
  return dx;
}

std::vector<double> channel_sum(std::span<const double> x, uint32_t samples, uint32_t channels, uint32_t pixels,
                                std::vector<double>* magnitude) {
  std::vector<double> sums(channels, 0.0);
  if (magnitude) magnitude->assign(channels, 0.0);
  for (uint32_t n = 0; n < samples; ++n)
    for (uint32_t c = 0; c < channels; ++c)
      for (uint32_t p = 0; p < pixels; ++p) {
        const double v = x[(size_t(n) * channels + c) * pixels + p];
        sums[c] += v;
        if (magnitude) (*magnitude)[c] += std::abs(v);
      }
  return sums;
}

}  // namespace vkgrad::reference
