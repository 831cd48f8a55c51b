#include "reference/attention.hpp"

#include <algorithm>
#include <cmath>

namespace vkgrad::reference {
namespace {

// Row i of one (sample, head): the normalized probabilities over keys 0..T-1 (0 where masked).
struct Head {
  const AttentionDims& dims;
  uint32_t s, h;
  double scale() const { return dims.scale != 0 ? dims.scale : 1.0 / std::sqrt(double(dims.d)); }
  size_t at(uint32_t pos, uint32_t c) const {
    return (size_t(s) * dims.t + pos) * size_t(dims.heads) * dims.d + size_t(h) * dims.d + c;
  }
  uint32_t keys(uint32_t i) const { return dims.causal ? i + 1 : dims.t; }
  std::vector<double> probabilities(std::span<const double> q, std::span<const double> k, uint32_t i) const {
    std::vector<double> p(dims.t, 0.0);
    double m = -INFINITY, sum = 0;
    for (uint32_t j = 0; j < keys(i); ++j) {
      for (uint32_t c = 0; c < dims.d; ++c) p[j] += q[at(i, c)] * k[at(j, c)];
      p[j] *= scale();
      m = std::max(m, p[j]);
    }
    for (uint32_t j = 0; j < keys(i); ++j) sum += p[j] = std::exp(p[j] - m);
    for (uint32_t j = 0; j < keys(i); ++j) p[j] /= sum;
    return p;
  }
};

}  // namespace

std::vector<double> attention(std::span<const double> q, std::span<const double> k, std::span<const double> v,
                              const AttentionDims& dims) {
  std::vector<double> out(q.size(), 0.0);
  for (uint32_t s = 0; s < dims.samples; ++s)
    for (uint32_t h = 0; h < dims.heads; ++h) {
      const Head head{dims, s, h};
      for (uint32_t i = 0; i < dims.t; ++i) {
        const auto p = head.probabilities(q, k, i);
        for (uint32_t c = 0; c < dims.d; ++c)
          for (uint32_t j = 0; j < head.keys(i); ++j) out[head.at(i, c)] += p[j] * v[head.at(j, c)];
      }
    }
  return out;
}

std::vector<double> causal_attention(std::span<const double> q, std::span<const double> k, std::span<const double> v,
                                     uint32_t samples, uint32_t t, uint32_t heads, uint32_t d) {
  return attention(q, k, v, {samples, t, heads, d, true, 0});
}

AttentionGrads attention_backward(std::span<const double> q, std::span<const double> k, std::span<const double> v,
                                  std::span<const double> y, std::span<const double> dy, const AttentionDims& dims) {
  AttentionGrads g;
  for (auto* x : {&g.dq, &g.dk, &g.dv, &g.dq_mag, &g.dk_mag, &g.dv_mag}) x->assign(q.size(), 0.0);
  for (uint32_t s = 0; s < dims.samples; ++s)
    for (uint32_t h = 0; h < dims.heads; ++h) {
      const Head head{dims, s, h};
      const double scale = head.scale();
      for (uint32_t i = 0; i < dims.t; ++i) {
        const auto p = head.probabilities(q, k, i);
        double delta = 0;
        for (uint32_t c = 0; c < dims.d; ++c) delta += dy[head.at(i, c)] * y[head.at(i, c)];
        for (uint32_t j = 0; j < head.keys(i); ++j) {
          double dp = 0, dp_mag = 0;
          for (uint32_t c = 0; c < dims.d; ++c) {
            dp += dy[head.at(i, c)] * v[head.at(j, c)];
            dp_mag += std::fabs(dy[head.at(i, c)] * v[head.at(j, c)]);
          }
          const double ds = p[j] * (dp - delta) * scale, ds_mag = p[j] * (dp_mag + std::fabs(delta)) * scale;
          for (uint32_t c = 0; c < dims.d; ++c) {
            g.dq[head.at(i, c)] += ds * k[head.at(j, c)];
            g.dq_mag[head.at(i, c)] += ds_mag * std::fabs(k[head.at(j, c)]);
            g.dk[head.at(j, c)] += ds * q[head.at(i, c)];
            g.dk_mag[head.at(j, c)] += ds_mag * std::fabs(q[head.at(i, c)]);
            g.dv[head.at(j, c)] += p[j] * dy[head.at(i, c)];
            g.dv_mag[head.at(j, c)] += p[j] * std::fabs(dy[head.at(i, c)]);
          }
        }
      }
    }
  return g;
}

}  // namespace vkgrad::reference
