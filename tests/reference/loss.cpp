#include "loss.hpp"

#include "softmax.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace vkgrad::reference {
namespace {

uint32_t valid(const LossProblem& p) { return std::min(p.valid_rows, p.rows); }

double count(const LossProblem& p) {
  const double rows = p.mean_rows ? p.mean_rows : valid(p);
  return p.kind == 0 ? rows : rows * p.cols;
}

bool label_ok(const LossProblem& p, int32_t label) { return label >= 0 && uint32_t(label) < p.cols; }

}  // namespace

std::vector<double> loss_rows(const LossProblem& p, std::span<const double> pred, std::span<const double> target,
                              std::span<const int32_t> labels) {
  std::vector<double> out(p.rows, 0.0);
  for (uint32_t r = 0; r < valid(p); ++r) {
    const auto row = pred.subspan(size_t(r) * p.cols, p.cols);
    if (p.kind == 0) {
      if (!label_ok(p, labels[r])) {
        out[r] = std::numeric_limits<double>::quiet_NaN();
        continue;
      }
      const double m = *std::max_element(row.begin(), row.end());
      double s = 0;
      for (double v : row) s += std::exp(v - m);
      out[r] = m - row[labels[r]] + std::log(s);
    } else {
      double s = 0;
      for (uint32_t j = 0; j < p.cols; ++j) {
        const double d = row[j] - target[size_t(r) * p.cols + j];
        s += p.kind == 1 ? d * d : std::fabs(d);
      }
      out[r] = s;
    }
  }
  return out;
}

double loss_mean(const LossProblem& p, std::span<const double> row_loss) {
  double s = 0;
  for (uint32_t r = 0; r < valid(p); ++r) s += row_loss[r];
  return s / count(p);
}

std::vector<double> loss_backward(const LossProblem& p, std::span<const double> pred, std::span<const double> target,
                                  std::span<const int32_t> labels) {
  std::vector<double> g(size_t(p.rows) * p.cols, 0.0);
  const double k = p.scale / count(p);
  for (uint32_t r = 0; r < valid(p); ++r) {
    const size_t base = size_t(r) * p.cols;
    if (p.kind == 0) {
      const auto y = softmax(pred.subspan(base, p.cols), 1, p.cols);
      for (uint32_t j = 0; j < p.cols; ++j)
        g[base + j] = label_ok(p, labels[r]) ? k * (y[j] - (int32_t(j) == labels[r] ? 1.0 : 0.0))
                                              : std::numeric_limits<double>::quiet_NaN();
    } else {
      for (uint32_t j = 0; j < p.cols; ++j) {
        const double d = pred[base + j] - target[base + j];
        g[base + j] = p.kind == 1 ? 2 * d * k : (d > 0 ? k : d < 0 ? -k : 0.0);
      }
    }
  }
  return g;
}

}  // namespace vkgrad::reference
