#include "mlp.hpp"

#include "gemm.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace vkgrad::reference {
namespace {

double act(MlpActivation a, double x) {
  switch (a) {
    case MlpActivation::Relu: return activate(x, 1);
    case MlpActivation::Gelu: return activate(x, 2);
    case MlpActivation::GeluTanh: return activate(x, 3);
    case MlpActivation::Tanh: return std::tanh(x);
    case MlpActivation::Sigmoid: return 1 / (1 + std::exp(-x));
  }
  return x;
}

double act_grad(MlpActivation a, double x) {
  switch (a) {
    case MlpActivation::Relu: return x > 0 ? 1 : 0;
    case MlpActivation::Gelu: {
      const double cdf = 0.5 * (1 + std::erf(x / std::numbers::sqrt2));
      return cdf + x * std::exp(-0.5 * x * x) / std::sqrt(2 * std::numbers::pi);
    }
    case MlpActivation::GeluTanh: {
      const double k = std::sqrt(2 / std::numbers::pi);
      const double u = k * (x + 0.044715 * x * x * x);
      const double t = std::tanh(u);
      return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * k * (1 + 3 * 0.044715 * x * x);
    }
    case MlpActivation::Tanh: return 1 - std::tanh(x) * std::tanh(x);
    case MlpActivation::Sigmoid: {
      const double s = 1 / (1 + std::exp(-x));
      return s * (1 - s);
    }
  }
  return 1;
}

}  // namespace

MlpGradients mlp_gradients(const Mlp& m, std::span<const double> x, std::span<const int32_t> labels,
                           std::span<const double> targets, uint32_t rows) {
  const size_t L = m.sizes.size() - 1;
  // pre[l], post[l]: rows × sizes[l+1]; post of the last layer is the prediction.
  std::vector<std::vector<double>> pre(L), post(L);
  std::vector<double> in(x.begin(), x.end());
  for (size_t l = 0; l < L; ++l) {
    const uint32_t ni = m.sizes[l], no = m.sizes[l + 1];
    pre[l].assign(size_t(rows) * no, 0);
    for (uint32_t r = 0; r < rows; ++r)
      for (uint32_t o = 0; o < no; ++o) {
        double s = m.biases[l][o];
        for (uint32_t i = 0; i < ni; ++i) s += in[r * ni + i] * m.weights[l][o * ni + i];
        pre[l][r * no + o] = s;
      }
    post[l] = pre[l];
    if (l + 1 < L)
      for (double& v : post[l]) v = act(m.activation, v);
    in = post[l];
  }
  const uint32_t out = m.sizes.back();
  const auto& pred = post[L - 1];
  MlpGradients g;
  std::vector<double> d(pred.size(), 0);
  for (uint32_t r = 0; r < rows; ++r) {
    if (m.loss == MlpLoss::CrossEntropy) {
      double mx = -INFINITY;
      for (uint32_t o = 0; o < out; ++o) mx = std::max(mx, pred[r * out + o]);
      double z = 0;
      for (uint32_t o = 0; o < out; ++o) z += std::exp(pred[r * out + o] - mx);
      g.loss += (std::log(z) + mx - pred[r * out + labels[r]]) / rows;
      for (uint32_t o = 0; o < out; ++o)
        d[r * out + o] = (std::exp(pred[r * out + o] - mx) / z - (int32_t(o) == labels[r] ? 1 : 0)) / rows;
    } else {
      for (uint32_t o = 0; o < out; ++o) {
        const double e = pred[r * out + o] - targets[r * out + o];
        const double n = double(rows) * out;
        g.loss += (m.loss == MlpLoss::Mse ? e * e : std::fabs(e)) / n;
        d[r * out + o] = (m.loss == MlpLoss::Mse ? 2 * e : (e > 0) - (e < 0)) / n;
      }
    }
  }
  g.weights.resize(L);
  g.biases.resize(L);
  for (size_t l = L; l-- > 0;) {
    const uint32_t ni = m.sizes[l], no = m.sizes[l + 1];
    const std::vector<double>& input = l == 0 ? std::vector<double>(x.begin(), x.end()) : post[l - 1];
    g.weights[l].assign(size_t(no) * ni, 0);
    g.biases[l].assign(no, 0);
    std::vector<double> dx(size_t(rows) * ni, 0);
    for (uint32_t r = 0; r < rows; ++r)
      for (uint32_t o = 0; o < no; ++o) {
        const double dy = d[r * no + o];
        g.biases[l][o] += dy;
        for (uint32_t i = 0; i < ni; ++i) {
          g.weights[l][o * ni + i] += dy * input[r * ni + i];
          dx[r * ni + i] += dy * m.weights[l][o * ni + i];
        }
      }
    if (l > 0)
      for (size_t i = 0; i < dx.size(); ++i) dx[i] *= act_grad(m.activation, pre[l - 1][i]);
    d = std::move(dx);
  }
  return g;
}

double mlp_loss(const Mlp& m, std::span<const double> x, std::span<const int32_t> labels,
                std::span<const double> targets, uint32_t rows) {
  return mlp_gradients(m, x, labels, targets, rows).loss;
}

}  // namespace vkgrad::reference
