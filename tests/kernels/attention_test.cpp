// Fused attention (kernels::Attention) against the float64 reference (whose backward is checked
// against central differences first): forward y, the saved log-sum-exp, and dq, dk, dv written
// and accumulated; fp32 and fp16 storage; causal and not; T off every tile and key-block
// boundary (5, 13, 37) and head dims 4 to 64; each variant (scalar, and coopmat where the device
// has cooperative matrices, forced).
//
// Tolerances. Every quantity is fp32 arithmetic on inputs in [-1, 1]: a score is a dot product of
// d terms (relative error ≤ (d + 2)·2^-24 of Σ|q·k|·scale ≤ √d), exp and log add a few ulp, and
// the sums over T keys (or queries) add (T + 2)·2^-24 of their terms' absolute values. So a
// probability is off by at most ε = 4·(d·√d + T + 16)·2^-24 relative, and each result by ε times
// the sum of its terms' absolute values (the reference's *_mag; Σ_j p_j|v_j| for y), plus the
// rounding to the storage type (u_out·|value|). The backward's δ_i = dy_i·y_i is computed from
// the y the device stored, as the reference is told (FlashAttention-2's definition). The coopmat
// variant rounds P and dS to fp16 for their products: 2^-11 more of the same sums, twice over.
#include "device_tensor.hpp"
#include "numerics.hpp"
#include "reference/attention.hpp"
#include "vk_fixture.hpp"
#include "vkgrad/error.hpp"
#include "vkgrad/kernels/attention.hpp"

#include <cmath>
#include <string>
#include <tuple>

namespace vkgrad::test {
namespace {

using kernels::ElemType;

TEST(AttentionReference, BackwardMatchesFiniteDifferences) {
  for (const bool causal : {true, false}) {
    const reference::AttentionDims dims{2, 4, 2, 3, causal, 0.7};
    const size_t n = size_t(dims.samples) * dims.t * dims.heads * dims.d;
    auto q = uniform(n, -1, 1, 1), k = uniform(n, -1, 1, 2), v = uniform(n, -1, 1, 3);
    const auto dy = uniform(n, -1, 1, 4);
    const auto loss = [&] {
      const auto y = reference::attention(q, k, v, dims);
      double l = 0;
      for (size_t i = 0; i < n; ++i) l += dy[i] * y[i];
      return l;
    };
    const auto g = reference::attention_backward(q, k, v, reference::attention(q, k, v, dims), dy, dims);
    const auto check = [&](std::vector<double>& x, const std::vector<double>& grad, const char* what) {
      for (size_t i = 0; i < n; ++i)
        EXPECT_NEAR(grad[i], central_difference(x, i, 1e-6, loss), 1e-7) << what << " " << i << " causal " << causal;
    };
    check(q, g.dq, "dq");
    check(k, g.dk, "dk");
    check(v, g.dv, "dv");
  }
}

struct Case {
  ElemType type;
  uint32_t t, heads, d;
  bool causal;
  kernels::AttentionVariant variant = kernels::AttentionVariant::Scalar;
};

constexpr auto kCoopmat = kernels::AttentionVariant::Coopmat;

class AttentionTest : public VkTestWithParam<Case> {};

TEST_P(AttentionTest, ForwardAndBackwardMatchReference) {
  const Case c = GetParam();
  vk::Context& ctx = context();
  if (c.variant == kernels::AttentionVariant::Coopmat) {
    try {
      (void)kernels::select_attention(ctx.caps(), c.type, c.d, c.variant);
    } catch (const Error& e) {
      GTEST_SKIP() << "needs cooperative matrices: " << e.what();
    }
  }
  const uint32_t samples = 2, width = c.heads * c.d;
  const size_t rows = size_t(samples) * c.t, n = rows * width;
  const kernels::AttentionShape shape{samples, c.t, c.heads, c.d, c.causal, 1.0f / std::sqrt(float(c.d))};
  const reference::AttentionDims dims{samples, c.t, c.heads, c.d, c.causal, double(shape.scale)};

  const auto qkv = round_for(c.type, uniform(3 * n, -1, 1, 11));
  const auto dy = round_for(c.type, uniform(n, -1, 1, 12));
  const auto dqkv0 = round_for(c.type, uniform(3 * n, -1, 1, 13));
  const auto dev_qkv = make_tensor(ctx, qkv, 3 * n, c.type, "qkv"), dev_dy = make_tensor(ctx, dy, n, c.type, "dy");
  const auto dev_y = make_tensor(ctx, {}, n, c.type, "y");
  const auto dev_dqkv = make_tensor(ctx, {}, 3 * n, c.type, "dqkv");
  const auto dev_acc = make_tensor(ctx, dqkv0, 3 * n, c.type, "dqkv (accumulated)");
  const size_t stats = shape.rows();
  const auto lse = make_tensor(ctx, {}, stats, ElemType::F32, "lse"), delta = make_tensor(ctx, {}, stats, ElemType::F32, "delta");
  const kernels::Attention att(ctx);
  run(ctx, [&](vk::Recorder& rec) {
    att.forward(rec, shape, dev_qkv.ref(), dev_y.ref(), lse.range(), c.variant);
    att.backward(rec, shape, dev_qkv.ref(), dev_y.ref(), dev_dy.ref(), lse.range(), dev_dqkv.ref(), false,
                 delta.range(), c.variant);
    att.backward(rec, shape, dev_qkv.ref(), dev_y.ref(), dev_dy.ref(), lse.range(), dev_acc.ref(), true,
                 delta.range(), c.variant);
  });

  std::vector<double> q(n), k(n), v(n);
  for (size_t r = 0; r < rows; ++r)
    for (size_t col = 0; col < width; ++col) {
      q[r * width + col] = qkv[r * 3 * width + col];
      k[r * width + col] = qkv[r * 3 * width + width + col];
      v[r * width + col] = qkv[r * 3 * width + 2 * width + col];
    }
  const double eps = 4 * (c.d * std::sqrt(double(c.d)) + c.t + 16) * kEps +
                     (c.variant == kernels::AttentionVariant::Coopmat ? 2 * 0x1p-11 : 0.0);

  // y, and Σ_j p_j·|v_j| for its bound.
  const auto want_y = reference::attention(q, k, v, dims);
  std::vector<double> abs_v(n);
  for (size_t i = 0; i < n; ++i) abs_v[i] = std::fabs(v[i]);
  const auto mag_y = reference::attention(q, k, abs_v, dims);
  const auto got_y = read_back(ctx, dev_y);
  std::vector<double> tol_y(n);
  for (size_t i = 0; i < n; ++i) tol_y[i] = eps * mag_y[i] + u_out(c.type) * std::fabs(want_y[i]) + tiny(c.type);
  EXPECT_TRUE(all_close(got_y, want_y, tol_y)) << "y";

  // lse_i = log Σ_j exp(s_ij): s off by ε/4 at most, the log adds a few ulp.
  const auto got_lse = read_back(ctx, lse);
  for (uint32_t s = 0; s < samples; ++s)
    for (uint32_t h = 0; h < c.heads; ++h)
      for (uint32_t i = 0; i < c.t; ++i) {
        double m = -INFINITY;
        std::vector<double> sc;
        for (uint32_t j = 0; j < (c.causal ? i + 1 : c.t); ++j) {
          double dot = 0;
          for (uint32_t e = 0; e < c.d; ++e)
            dot += q[(size_t(s) * c.t + i) * width + h * c.d + e] * k[(size_t(s) * c.t + j) * width + h * c.d + e];
          sc.push_back(dot * shape.scale);
          m = std::max(m, sc.back());
        }
        double sum = 0;
        for (double x : sc) sum += std::exp(x - m);
        const double want = m + std::log(sum);
        EXPECT_NEAR(got_lse[(size_t(s) * c.heads + h) * c.t + i], want, eps * (1 + std::fabs(want)))
            << "lse " << s << " " << h << " " << i;
      }

  const auto g = reference::attention_backward(q, k, v, got_y, dy, dims);
  const auto check = [&](const DeviceTensor& dev, bool accumulated) {
    std::vector<double> want(3 * n), tol(3 * n);
    for (size_t r = 0; r < rows; ++r)
      for (size_t col = 0; col < width; ++col) {
        const size_t src = r * width + col;
        const std::pair<const std::vector<double>*, const std::vector<double>*> parts[] = {
            {&g.dq, &g.dq_mag}, {&g.dk, &g.dk_mag}, {&g.dv, &g.dv_mag}};
        for (size_t part = 0; part < 3; ++part) {
          const size_t dst = r * 3 * width + part * width + col;
          want[dst] = (*parts[part].first)[src] + (accumulated ? dqkv0[dst] : 0.0);
          tol[dst] = eps * ((*parts[part].second)[src] + (accumulated ? std::fabs(dqkv0[dst]) : 0.0)) +
                     u_out(c.type) * std::fabs(want[dst]) + tiny(c.type);
        }
      }
    EXPECT_TRUE(all_close(read_back(ctx, dev), want, tol)) << (accumulated ? "dqkv accumulated" : "dqkv");
  };
  check(dev_dqkv, false);
  check(dev_acc, true);
}

INSTANTIATE_TEST_SUITE_P(Shapes, AttentionTest,
                         ::testing::Values(Case{ElemType::F32, 13, 2, 8, true}, Case{ElemType::F16, 13, 2, 8, true},
                                           Case{ElemType::F16, 37, 1, 32, true}, Case{ElemType::F32, 5, 3, 4, false},
                                           Case{ElemType::F16, 13, 2, 8, false}, Case{ElemType::F32, 20, 2, 64, true},
                                           Case{ElemType::F16, 13, 2, 8, true, kCoopmat},
                                           Case{ElemType::F16, 37, 1, 32, true, kCoopmat},
                                           Case{ElemType::F16, 13, 2, 8, false, kCoopmat},
                                           Case{ElemType::F16, 70, 2, 64, true, kCoopmat}),
                         [](const ::testing::TestParamInfo<Case>& p) {
                           const Case& c = p.param;
                           return std::string(kernels::attention_variant_name(c.variant)) + "_" +
                                  std::string(kernels::elem_type_name(c.type)) + "_t" + std::to_string(c.t) + "_h" +
                                  std::to_string(c.heads) + "_d" + std::to_string(c.d) +
                                  (c.causal ? "_causal" : "_full");
                         });

TEST_F(VkTest, AttentionRejectsBadShapesAndScratch) {
  vk::Context& ctx = context();
  const auto qkv = make_tensor(ctx, std::vector<double>(3 * 2 * 4 * 6, 0.5), 3 * 2 * 4 * 6, ElemType::F32, "qkv");
  const auto y = make_tensor(ctx, {}, 2 * 4 * 6, ElemType::F32, "y");
  const auto lse = make_tensor(ctx, {}, 2 * 4 * 3, ElemType::F32, "lse");
  const kernels::Attention att(ctx);
  run(ctx, [&](vk::Recorder& rec) {
    // An odd head_dim, lse too short, a third sample qkv does not hold, y over qkv.
    EXPECT_THROW(att.forward(rec, {2, 4, 2, 3, true, 1.0f}, qkv.ref(), y.ref(), lse.range()), Error);
    EXPECT_THROW(att.forward(rec, {2, 4, 1, 6, true, 1.0f}, qkv.ref(), y.ref(), lse.range().slice(0, 8)), Error);
    EXPECT_THROW(att.forward(rec, {3, 4, 3, 2, true, 1.0f}, qkv.ref(), y.ref(), lse.range()), Error);
    EXPECT_THROW(att.forward(rec, {2, 4, 3, 2, true, 1.0f}, qkv.ref(), qkv.ref(), lse.range()), Error);
    att.forward(rec, {2, 4, 3, 2, true, 1.0f}, qkv.ref(), y.ref(), lse.range());
  });
  // Equal keys: every query averages the values it sees, all 0.5.
  for (double x : read_back(ctx, y)) EXPECT_NEAR(x, 0.5, 1e-6);
}

}  // namespace
}  // namespace vkgrad::test
