// Layer normalization against the float64 reference (itself checked against central
// differences first): forward, the backward of x (written and accumulated), γ and β, and the
// γ, β-only backward; fp32 and fp16 storage, and mixed precision's (x and dx fp32, the residual
// stream; dy, y and γ, β fp16); rows of odd length (fp16 words shared by two rows),
// of 128, and longer than a workgroup (300: each invocation walks several elements).
//
// Tolerances. A row's statistics are fp32 sums of dim terms in a fixed order: relative error
// ≤ (dim + 8)·2^-24 of Σ|terms|; for inputs in [-2, 2] and |x̂| ≤ √dim that moves y = x̂·γ + β by at
// most 8·(dim + 16)·2^-24·(1 + |y|), inversesqrt's 2 ulp included, plus the rounding to the
// output type. The input gradient adds two more sums of dim terms: 32·(dim + 16)·2^-24·(1 + |dx|).
// dγ sums `rows` terms dy·x̂, each off by |dy| ≤ 1 times x̂'s error (8·(dim + 16)·2^-24·(1 + √dim)),
// and the sum adds (rows + 16)·2^-24 of Σ|terms| ≤ rows·√dim; dβ only the latter, of Σ|dy| ≤ rows.
#include "device_tensor.hpp"
#include "numerics.hpp"
#include "reference/layer_norm.hpp"
#include "vk_fixture.hpp"
#include "vkgrad/error.hpp"
#include "vkgrad/kernels/layer_norm.hpp"

#include <cmath>
#include <string>
#include <tuple>

namespace vkgrad::test {
namespace {

using kernels::ElemType;

TEST(LayerNormReference, BackwardMatchesFiniteDifferences) {
  const uint32_t rows = 3, dim = 5;
  const double eps = 1e-5;
  auto x = uniform(rows * dim, -2, 2, 1);
  auto gamma = uniform(dim, 0.5, 1.5, 2);
  auto beta = uniform(dim, -0.5, 0.5, 3);
  const auto dy = uniform(x.size(), -1, 1, 4);
  const auto loss = [&] {
    const auto y = reference::layer_norm_forward(x, gamma, beta, rows, dim, eps);
    double l = 0;
    for (size_t i = 0; i < y.size(); ++i) l += dy[i] * y[i];
    return l;
  };
  const auto g = reference::layer_norm_backward(x, dy, gamma, rows, dim, eps);
  const auto check = [&](std::vector<double>& v, const std::vector<double>& grad, const char* what) {
    for (size_t i = 0; i < v.size(); ++i)
      EXPECT_NEAR(grad[i], central_difference(v, i, 1e-6, loss), 1e-6) << what << " " << i;
  };
  check(x, g.dx, "dx");
  check(gamma, g.dgamma, "dgamma");
  check(beta, g.dbeta, "dbeta");
}

// Each operand's storage.
struct LayerNormTypes {
  const char* name;
  ElemType x, dy, param, y, dx;
};
constexpr LayerNormTypes kF32{"f32", ElemType::F32, ElemType::F32, ElemType::F32, ElemType::F32, ElemType::F32};
constexpr LayerNormTypes kF16{"f16", ElemType::F16, ElemType::F16, ElemType::F16, ElemType::F16, ElemType::F16};
constexpr LayerNormTypes kResidual{"residual", ElemType::F32, ElemType::F16, ElemType::F16, ElemType::F16,
                                   ElemType::F32};

class LayerNormTest : public VkTestWithParam<std::tuple<LayerNormTypes, uint32_t>> {};

TEST_P(LayerNormTest, ForwardAndBackwardMatchReference) {
  const auto [t, dim] = GetParam();
  vk::Context& ctx = context();
  const uint32_t rows = 9;
  const double eps = 1e-5;
  const size_t n = size_t(rows) * dim;
  const auto x = round_for(t.x, uniform(n, -2, 2, 11));
  const auto dy = round_for(t.dy, uniform(n, -1, 1, 12));
  const auto gamma = round_for(t.param, uniform(dim, 0.5, 1.5, 13));
  const auto beta = round_for(t.param, uniform(dim, -0.5, 0.5, 14));
  const auto dx0 = round_for(t.dx, uniform(n, -1, 1, 15));
  const auto dg0 = uniform(dim, -1, 1, 16), db0 = uniform(dim, -1, 1, 17);

  const auto dev_x = make_tensor(ctx, x, n, t.x, "x"), dev_dy = make_tensor(ctx, dy, n, t.dy, "dy");
  const auto dev_gamma = make_tensor(ctx, gamma, dim, t.param, "gamma");
  const auto dev_beta = make_tensor(ctx, beta, dim, t.param, "beta");
  const auto dev_y = make_tensor(ctx, {}, n, t.y, "y");
  const auto dev_dx = make_tensor(ctx, dx0, n, t.dx, "dx (accumulated)");
  const auto dev_dx2 = make_tensor(ctx, {}, n, t.dx, "dx");
  const auto dev_dg = make_tensor(ctx, dg0, dim, ElemType::F32, "dgamma");
  const auto dev_db = make_tensor(ctx, db0, dim, ElemType::F32, "dbeta");
  const auto dev_dg2 = make_tensor(ctx, dg0, dim, ElemType::F32, "dgamma (no dx)");
  const auto dev_db2 = make_tensor(ctx, db0, dim, ElemType::F32, "dbeta (no dx)");
  const auto stats = make_tensor(ctx, {}, 2 * rows, ElemType::F32, "stats");
  const kernels::LayerNorm ln(ctx);
  run(ctx, [&](vk::Recorder& rec) {
    ln.forward(rec, dev_x.ref(), dev_gamma.ref(), dev_beta.ref(), dev_y.ref(), rows, dim, float(eps));
    ln.backward(rec, dev_x.ref(), dev_dy.ref(), dev_gamma.ref(), dev_dx.ref(), true, dev_dg.range(), dev_db.range(),
                stats.range(), rows, dim, float(eps));
  });
  run(ctx, [&](vk::Recorder& rec) {
    ln.backward(rec, dev_x.ref(), dev_dy.ref(), dev_gamma.ref(), dev_dx2.ref(), false, dev_dg2.range(),
                dev_db2.range(), stats.range(), rows, dim, float(eps));
  });

  const double slack = (dim + 16) * kEps;
  const auto tol_of = [&](const std::vector<double>& want, double factor, ElemType out) {
    std::vector<double> tol(want.size());
    for (size_t i = 0; i < want.size(); ++i)
      tol[i] = factor * slack * (1 + std::fabs(want[i])) + u_out(out) * std::fabs(want[i]) + tiny(out);
    return tol;
  };
  const auto y = reference::layer_norm_forward(x, gamma, beta, rows, dim, eps);
  EXPECT_TRUE(all_close(read_back(ctx, dev_y), y, tol_of(y, 8, t.y))) << "y";

  const auto g = reference::layer_norm_backward(x, dy, gamma, rows, dim, eps);
  EXPECT_TRUE(all_close(read_back(ctx, dev_dx2), g.dx, tol_of(g.dx, 32, t.dx))) << "dx";
  auto dx_acc = g.dx;
  for (size_t i = 0; i < n; ++i) dx_acc[i] += dx0[i];
  EXPECT_TRUE(all_close(read_back(ctx, dev_dx), dx_acc, tol_of(dx_acc, 32, t.dx))) << "dx accumulated";
  auto dg = g.dgamma, db = g.dbeta;
  for (uint32_t j = 0; j < dim; ++j) dg[j] += dg0[j], db[j] += db0[j];
  const double root = std::sqrt(double(dim));
  const std::vector<double> tol_g(dim, 8 * slack * rows * (1 + root) + (rows + 16) * kEps * (rows * root + 1));
  const std::vector<double> tol_b(dim, (rows + 16) * kEps * (rows + 1));
  for (const auto* pair : {&dev_dg, &dev_dg2}) EXPECT_TRUE(all_close(read_back(ctx, *pair), dg, tol_g)) << "dgamma";
  for (const auto* pair : {&dev_db, &dev_db2}) EXPECT_TRUE(all_close(read_back(ctx, *pair), db, tol_b)) << "dbeta";
}

INSTANTIATE_TEST_SUITE_P(Types, LayerNormTest,
                         ::testing::Combine(::testing::Values(kF32, kF16, kResidual),
                                            ::testing::Values(7u, 128u, 300u)),
                         [](const ::testing::TestParamInfo<std::tuple<LayerNormTypes, uint32_t>>& p) {
                           return std::string(std::get<0>(p.param).name) + "_dim" + std::to_string(std::get<1>(p.param));
                         });

// γ, β only: the input needs no gradient (e.g. a normalized graph input).
TEST_F(VkTest, LayerNormWithoutInputGradientStillUpdatesGammaAndBeta) {
  vk::Context& ctx = context();
  const uint32_t rows = 4, dim = 6;
  const auto x = uniform(rows * dim, -2, 2, 21), dy = uniform(rows * dim, -1, 1, 22);
  const std::vector<double> gamma(dim, 1.0), zeros(dim, 0.0);
  const auto dev_x = make_tensor(ctx, x, x.size(), ElemType::F32, "x");
  const auto dev_dy = make_tensor(ctx, dy, dy.size(), ElemType::F32, "dy");
  const auto dev_gamma = make_tensor(ctx, gamma, dim, ElemType::F32, "gamma");
  const auto dev_dg = make_tensor(ctx, zeros, dim, ElemType::F32, "dgamma");
  const auto dev_db = make_tensor(ctx, zeros, dim, ElemType::F32, "dbeta");
  const auto stats = make_tensor(ctx, {}, 2 * rows, ElemType::F32, "stats");
  const kernels::LayerNorm ln(ctx);
  run(ctx, [&](vk::Recorder& rec) {
    ln.backward(rec, dev_x.ref(), dev_dy.ref(), dev_gamma.ref(), std::nullopt, false, dev_dg.range(), dev_db.range(),
                stats.range(), rows, dim, 1e-5f);
  });
  const auto g = reference::layer_norm_backward(x, dy, gamma, rows, dim, 1e-5);
  // fp32 sums of 4 terms of magnitude ≤ √6: off by far less than 1e-5.
  EXPECT_TRUE(all_close(read_back(ctx, dev_dg), g.dgamma, 1e-5, 1e-5));
  EXPECT_TRUE(all_close(read_back(ctx, dev_db), g.dbeta, 1e-5, 1e-5));
  run(ctx, [&](vk::Recorder& rec) {
    EXPECT_THROW(ln.forward(rec, dev_x.ref(), dev_gamma.ref(), dev_gamma.ref(), dev_x.ref(), rows, dim, 1e-5f), Error)
        << "in place";
    EXPECT_THROW(ln.forward(rec, dev_x.ref(), dev_gamma.ref(), dev_gamma.ref(), dev_dy.ref(), rows, dim, 0.0f), Error)
        << "eps 0";
  });
}

}  // namespace
}  // namespace vkgrad::test
