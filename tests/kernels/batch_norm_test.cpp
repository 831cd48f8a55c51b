// Batch normalization against the float64 reference: training forward with running-statistic
// updates and the batch count, evaluation forward, and the backward, on a partial batch (the
// padding sample must not move the statistics and gets no gradient), fp32 and fp16, odd pixel
// counts (fp16 words shared by two channels). The reference's backward is checked against
// central differences of its forward first.
//
// Tolerances. A channel's statistics are fp32 sums of n = valid·pixels terms in a fixed order
// (each invocation's share, then a tree): relative error ≤ (n + 8)·2^-24 of Σ|terms|; for inputs
// in [-2, 2] and |x̂| ≤ √n that moves y = x̂·γ + β by at most 8·(n + 16)·2^-24·(1 + |y|),
// inversesqrt's 2 ulp included, plus the rounding to the output type. The backward adds one
// more sum of n terms per factor: 32·(n + 16)·2^-24·(1 + |dx|); dγ, dβ are sums of n terms of
// magnitude ≤ 4·√n: 8·(n + 16)·2^-24·Σ|terms|.
#include "device_tensor.hpp"
#include "numerics.hpp"
#include "reference/batch_norm.hpp"
#include "vk_fixture.hpp"
#include "vkgrad/error.hpp"
#include "vkgrad/kernels/batch_norm.hpp"
#include "vkgrad/kernels/loss.hpp"

#include <cmath>
#include <string>

namespace vkgrad::test {
namespace {

using kernels::ElemType;

TEST(BatchNormReference, BackwardMatchesFiniteDifferences) {
  reference::BatchNormCase c{4, 3, 2, 5};
  auto x = uniform(size_t(c.samples) * c.channels * c.pixels, -2, 2, 1);
  auto gamma = uniform(c.channels, 0.5, 1.5, 2);
  auto beta = uniform(c.channels, -0.5, 0.5, 3);
  const auto dy = uniform(x.size(), -1, 1, 4);
  const std::vector<double> zeros(c.channels, 0.0), ones(c.channels, 1.0);
  const auto loss = [&] {
    const auto y = reference::batch_norm_forward(c, x, gamma, beta, zeros, ones, true).y;
    double l = 0;
    for (size_t i = 0; i < size_t(c.valid) * c.channels * c.pixels; ++i) l += dy[i] * y[i];  // valid samples
    return l;
  };
  const auto b = reference::batch_norm_backward(c, x, gamma, dy);
  const auto check = [&](std::vector<double>& v, const std::vector<double>& grad, const char* what) {
    for (size_t i = 0; i < v.size(); ++i)
      EXPECT_NEAR(grad[i], central_difference(v, i, 1e-6, loss), 1e-6) << what << " " << i;
  };
  check(x, b.dx, "dx");
  check(gamma, b.dgamma, "dgamma");
  check(beta, b.dbeta, "dbeta");
}

class BatchNormTest : public VkTestWithParam<std::tuple<ElemType, uint32_t>> {};

TEST_P(BatchNormTest, TrainEvalAndBackwardMatchReference) {
  const auto [t, pixels] = GetParam();
  vk::Context& ctx = context();
  const reference::BatchNormCase c{5, 4, 3, pixels, 1e-5, 0.1};
  const size_t n = size_t(c.samples) * c.channels * c.pixels;
  const auto x = round_for(t, uniform(n, -2, 2, 11));
  const auto dy = round_for(t, [&] {
    auto v = uniform(n, -1, 1, 12);
    for (size_t i = size_t(c.valid) * c.channels * c.pixels; i < n; ++i) v[i] = 0;  // the loss zeroes padding
    return v;
  }());
  const auto gamma = round_for(t, uniform(c.channels, 0.5, 1.5, 13));
  const auto beta = round_for(t, uniform(c.channels, -0.5, 0.5, 14));
  const auto rmean = uniform(c.channels, -0.2, 0.2, 15), rvar = uniform(c.channels, 0.5, 2, 16);
  const auto dx0 = round_for(t, uniform(n, -1, 1, 17));
  const auto dg0 = uniform(c.channels, -1, 1, 18), db0 = uniform(c.channels, -1, 1, 19);

  const auto dev_x = make_tensor(ctx, x, n, t, "x"), dev_dy = make_tensor(ctx, dy, n, t, "dy");
  const auto dev_gamma = make_tensor(ctx, gamma, c.channels, t, "gamma");
  const auto dev_beta = make_tensor(ctx, beta, c.channels, t, "beta");
  const auto dev_mean = make_tensor(ctx, rmean, c.channels, ElemType::F32, "running_mean");
  const auto dev_var = make_tensor(ctx, rvar, c.channels, ElemType::F32, "running_var");
  const auto dev_count = make_tensor(ctx, std::vector<double>{7}, 1, ElemType::F32, "batches");
  const kernels::LossParams lp{1.0f, c.valid};
  const auto dev_params = upload_bytes(ctx, std::as_bytes(std::span(&lp, 1)), "loss params");
  const auto dev_y = make_tensor(ctx, {}, n, t, "y"), dev_eval = make_tensor(ctx, {}, n, t, "y eval");
  const auto dev_dx = make_tensor(ctx, dx0, n, t, "dx");
  const auto dev_dg = make_tensor(ctx, dg0, c.channels, ElemType::F32, "dgamma");
  const auto dev_db = make_tensor(ctx, db0, c.channels, ElemType::F32, "dbeta");
  const kernels::BatchNormTensors bt{dev_gamma.ref(), dev_beta.ref(), dev_mean.range(), dev_var.range(),
                                     dev_count.range(), dev_params.range()};
  const kernels::BatchNormShape shape{c.samples, c.channels, c.pixels, float(c.eps), float(c.momentum)};
  const kernels::BatchNorm bn(ctx);
  run(ctx, [&](vk::Recorder& rec) {
    bn.forward(rec, shape, bt, dev_x.ref(), dev_eval.ref(), false);  // before the update: initial statistics
    bn.forward(rec, shape, bt, dev_x.ref(), dev_y.ref(), true);
    bn.backward(rec, shape, bt, dev_x.ref(), dev_dy.ref(), dev_dx.ref(), dev_dg.range(), dev_db.range(), true);
  });

  const double count = double(c.valid) * c.pixels, slack = (count + 16) * kEps;
  const auto tol_of = [&](const std::vector<double>& want, double factor, ElemType out) {
    std::vector<double> tol(want.size());
    for (size_t i = 0; i < want.size(); ++i)
      tol[i] = factor * slack * (1 + std::fabs(want[i])) + u_out(out) * std::fabs(want[i]) + tiny(out);
    return tol;
  };
  const auto eval = reference::batch_norm_forward(c, x, gamma, beta, rmean, rvar, false);
  EXPECT_TRUE(all_close(read_back(ctx, dev_eval), eval.y, tol_of(eval.y, 8, t))) << "evaluation";
  const auto train = reference::batch_norm_forward(c, x, gamma, beta, rmean, rvar, true);
  EXPECT_TRUE(all_close(read_back(ctx, dev_y), train.y, tol_of(train.y, 8, t))) << "training";
  EXPECT_TRUE(all_close(read_back(ctx, dev_mean), train.running_mean, tol_of(train.running_mean, 8, ElemType::F32)))
      << "running_mean";
  EXPECT_TRUE(all_close(read_back(ctx, dev_var), train.running_var, tol_of(train.running_var, 8, ElemType::F32)))
      << "running_var";
  EXPECT_EQ(read_back(ctx, dev_count), std::vector<double>{8}) << "batches counted";

  auto back = reference::batch_norm_backward(c, x, gamma, dy);
  for (size_t i = 0; i < n; ++i) back.dx[i] += dx0[i];
  EXPECT_TRUE(all_close(read_back(ctx, dev_dx), back.dx, tol_of(back.dx, 32, t))) << "dx";
  for (uint32_t ch = 0; ch < c.channels; ++ch) {
    back.dgamma[ch] += dg0[ch];
    back.dbeta[ch] += db0[ch];
  }
  // Σ|terms| ≤ n·4·√n for dγ and n for dβ.
  const double scale = count * 4 * std::sqrt(count);
  std::vector<double> tol_g(c.channels, 8 * slack * scale), tol_b(c.channels, 8 * slack * count);
  EXPECT_TRUE(all_close(read_back(ctx, dev_dg), back.dgamma, tol_g)) << "dgamma";
  EXPECT_TRUE(all_close(read_back(ctx, dev_db), back.dbeta, tol_b)) << "dbeta";
}

INSTANTIATE_TEST_SUITE_P(Types, BatchNormTest,
                         ::testing::Combine(::testing::Values(ElemType::F32, ElemType::F16), ::testing::Values(7u, 64u)),
                         [](const ::testing::TestParamInfo<std::tuple<ElemType, uint32_t>>& p) {
                           return std::string(kernels::elem_type_name(std::get<0>(p.param))) + "_pixels" +
                                  std::to_string(std::get<1>(p.param));
                         });

}  // namespace
}  // namespace vkgrad::test
