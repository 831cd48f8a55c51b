#include "reference/batch_norm.hpp"

#include <cmath>

namespace vkgrad::reference {
namespace {

size_t at(const BatchNormCase& c, uint32_t n, uint32_t ch, uint32_t p) {
  return (size_t(n) * c.channels + ch) * c.pixels + p;
}

}  // namespace

BatchNormForward batch_norm_forward(const BatchNormCase& c, std::span<const double> x, std::span<const double> gamma,
                                    std::span<const double> beta, std::span<const double> running_mean,
                                    std::span<const double> running_var, bool training) {
  BatchNormForward f;
  f.y.resize(x.size());
  f.running_mean.assign(running_mean.begin(), running_mean.end());
  f.running_var.assign(running_var.begin(), running_var.end());
  const double count = double(c.valid) * c.pixels;
  for (uint32_t ch = 0; ch < c.channels; ++ch) {
    double mean = running_mean[ch], var = running_var[ch];
    if (training) {
      double s = 0, q = 0;
      for (uint32_t n = 0; n < c.valid; ++n)
        for (uint32_t p = 0; p < c.pixels; ++p) s += x[at(c, n, ch, p)];
      mean = s / count;
      for (uint32_t n = 0; n < c.valid; ++n)
        for (uint32_t p = 0; p < c.pixels; ++p) q += (x[at(c, n, ch, p)] - mean) * (x[at(c, n, ch, p)] - mean);
      var = q / count;
      const double unbiased = count > 1 ? q / (count - 1) : var;
      f.running_mean[ch] = (1 - c.momentum) * running_mean[ch] + c.momentum * mean;
      f.running_var[ch] = (1 - c.momentum) * running_var[ch] + c.momentum * unbiased;
    }
    f.mean.push_back(mean);
    f.var.push_back(var);
    for (uint32_t n = 0; n < c.samples; ++n)
      for (uint32_t p = 0; p < c.pixels; ++p)
        f.y[at(c, n, ch, p)] = (x[at(c, n, ch, p)] - mean) / std::sqrt(var + c.eps) * gamma[ch] + beta[ch];
  }
  return f;
}

BatchNormBackward batch_norm_backward(const BatchNormCase& c, std::span<const double> x,
                                      std::span<const double> gamma, std::span<const double> dy) {
  const std::vector<double> zeros(c.channels, 0.0), ones(c.channels, 1.0);
  const auto f = batch_norm_forward(c, x, gamma, zeros, zeros, ones, true);
  BatchNormBackward b{std::vector<double>(x.size(), 0.0), std::vector<double>(c.channels, 0.0),
                      std::vector<double>(c.channels, 0.0)};
  const double count = double(c.valid) * c.pixels;
  for (uint32_t ch = 0; ch < c.channels; ++ch) {
    const double inv = 1 / std::sqrt(f.var[ch] + c.eps);
    double sdy = 0, sdyx = 0;
    for (uint32_t n = 0; n < c.valid; ++n)
      for (uint32_t p = 0; p < c.pixels; ++p) {
        const size_t i = at(c, n, ch, p);
        sdy += dy[i];
        sdyx += dy[i] * (x[i] - f.mean[ch]) * inv;
      }
    b.dgamma[ch] = sdyx;
    b.dbeta[ch] = sdy;
    for (uint32_t n = 0; n < c.valid; ++n)
      for (uint32_t p = 0; p < c.pixels; ++p) {
        const size_t i = at(c, n, ch, p);
        const double xhat = (x[i] - f.mean[ch]) * inv;
        b.dx[i] = gamma[ch] * inv * (dy[i] - sdy / count - xhat * sdyx / count);
      }
  }
  return b;
}

}  // namespace vkgrad::reference
