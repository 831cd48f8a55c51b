// Row-wise softmax and its gradient against the float64 reference: one column, odd columns
// (fp16 words straddling two rows), rows not a multiple of the 256-wide workgroup, 5003 and
// 50000 columns, ±80 and ±1000 logits, fp32 and fp16 in and out, accumulate.
//
// Inputs are rounded to their storage type first, so the reference sees what the device sees.
// Forward, per element (first order, ε = 2^-24): x_j − m is rounded (|x_j − m|·ε) and Vulkan's
// exp is good to (3 + 2|x_j − m|) ulp, so e_j errs by δ_j = (3 + 3|x_j − m|)·ε relative; the
// row sum then errs by Σ_k y_k·δ_k + chain·ε relative, chain = ceil(cols/256) + 8 additions
// (strided loop, then the tree); the division adds 3ε. tol_j = y_j·(δ_j + that + 3ε) plus the
// output rounding (2^-11·|y| for fp16, ε for fp32) and its smallest step (2^-24 for fp16
// subnormals, 2^-126 for fp32, whose denormals a device may flush).
// Backward: the dot product Σ dy·y errs by (chain + 1)·ε·Σ|dy·y|, the difference and product
// by ε each, accumulation by ε·(|new| + |old|), then the output rounding.
#include "device_tensor.hpp"
#include "numerics.hpp"
#include "reference/softmax.hpp"
#include "vk_fixture.hpp"
#include "vkgrad/error.hpp"
#include "vkgrad/kernels/softmax.hpp"
#include "vkgrad/vk/buffer.hpp"

#include <algorithm>
#include <cmath>
#include <string>

namespace vkgrad::test {
namespace {

using kernels::ElemType;

constexpr ElemType F32 = ElemType::F32, F16 = ElemType::F16;

// Logits: uniform in [-4, 4), or with `extreme` a mix of ±80 and ±1000 (exp of these overflows
// fp32 without the max subtracted) and a few ordinary values, rows differing.
std::vector<double> logits(size_t n, ElemType t, bool extreme, uint32_t seed) {
  auto v = uniform(n, -4, 4, seed);
  if (extreme) {
    const double big[] = {80, -80, 1000, -1000, 79.5, 0};
    for (size_t i = 0; i < n; ++i)
      if (i % 3 != 2) v[i] = big[(i * 7 + i / 5) % std::size(big)];
  }
  return round_for(t, v);
}

uint32_t chain(uint32_t cols) { return (cols + 255) / 256 + 8; }

// The reference's derivative against central differences of the reference forward, in
// float64: ∂/∂x Σ w⊙softmax(x) = softmax_backward(y, w).
TEST(SoftmaxReference, BackwardMatchesFiniteDifferences) {
  const uint32_t rows = 3, cols = 5;
  auto x = uniform(rows * cols, -3, 3, 1);
  x[0] = 40;  // a dominant logit
  const auto w = uniform(rows * cols, -1, 1, 2);
  const auto objective = [&](const std::vector<double>& v) {
    const auto y = reference::softmax(v, rows, cols);
    double s = 0;
    for (size_t i = 0; i < y.size(); ++i) s += w[i] * y[i];
    return s;
  };
  const auto grad = reference::softmax_backward(reference::softmax(x, rows, cols), w, rows, cols);
  const double h = 1e-6;
  for (size_t i = 0; i < x.size(); ++i) {
    auto plus = x, minus = x;
    plus[i] += h;
    minus[i] -= h;
    EXPECT_NEAR(grad[i], (objective(plus) - objective(minus)) / (2 * h), 1e-8) << "element " << i;
  }
}

struct ForwardCase {
  const char* name;
  uint32_t rows, cols;
  ElemType x, y;
  bool extreme = false;
  bool causal = false;
};

const ForwardCase kForwardCases[] = {
    {"one", 1, 1, F32, F32},
    {"odd_cols_f16", 5, 7, F16, F16},
    {"odd_cols_f32_to_f16", 3, 13, F32, F16},
    {"workgroup_plus_one_f16_to_f32", 4, 257, F16, F32},
    {"many_short_rows_f16", 300, 3, F16, F16},
    {"large_row_f16_out", 2, 5003, F32, F16},
    {"huge_row", 1, 50000, F16, F32},
    {"extreme_f32", 6, 9, F32, F32, true},
    {"extreme_f16", 6, 11, F16, F16, true},
    {"rows_beyond_one_dispatch", 65537, 3, F16, F16},  // more rows than workgroups in x (65535)
    {"causal_blocks_f16", 3 * 9, 9, F16, F16, false, true},  // three 9×9 blocks of attention scores
    {"causal_extreme_f32", 2 * 6, 6, F32, F32, true, true},
};

class SoftmaxForwardTest : public VkTestWithParam<ForwardCase> {};

TEST_P(SoftmaxForwardTest, MatchesReference) {
  const ForwardCase& c = GetParam();
  vk::Context& ctx = context();
  const kernels::Softmax softmax(ctx);
  const size_t n = size_t(c.rows) * c.cols;
  const auto x = logits(n, c.x, c.extreme, 10 + c.cols);
  DeviceTensor bx = make_tensor(ctx, x, n, c.x, "x");
  DeviceTensor by = make_tensor(ctx, {}, n, c.y, "y");
  run(ctx, [&](vk::Recorder& rec) { softmax.forward(rec, bx.ref(), by.ref(), c.rows, c.cols, c.causal); });
  const auto got = read_back(ctx, by);
  const auto want = reference::softmax(x, c.rows, c.cols, c.causal);
  std::vector<double> tol(n, 0.0);  // masked columns must be exactly 0
  for (uint32_t r = 0; r < c.rows; ++r) {
    const size_t base = size_t(r) * c.cols, seen = c.causal ? r % c.cols + 1 : c.cols;
    const double m = *std::max_element(x.begin() + base, x.begin() + base + seen);
    const auto delta = [&](size_t i) { return (3 + 3 * std::fabs(x[i] - m)) * kEps; };
    double sum_rel = chain(c.cols) * kEps;
    for (size_t i = base; i < base + seen; ++i) sum_rel += want[i] * delta(i);
    for (size_t i = base; i < base + seen; ++i)
      tol[i] = want[i] * (delta(i) + sum_rel + 3 * kEps + u_out(c.y)) + tiny(c.y);
  }
  EXPECT_TRUE(all_close(got, want, tol));
}

INSTANTIATE_TEST_SUITE_P(Cases, SoftmaxForwardTest, ::testing::ValuesIn(kForwardCases),
                         [](const auto& p) { return std::string(p.param.name); });

struct BackwardCase {
  const char* name;
  uint32_t rows, cols;
  ElemType y, dy, dx;
  bool accumulate;
  bool extreme = false;
};

const BackwardCase kBackwardCases[] = {
    {"one_acc", 1, 1, F32, F32, F32, true},
    {"odd_cols_f16_acc", 5, 7, F16, F16, F16, true},
    {"odd_cols_mixed", 3, 13, F16, F32, F16, false},
    {"many_short_rows_f16", 300, 3, F16, F16, F16, false},
    {"large_row_acc", 2, 5003, F32, F32, F32, true},
    {"large_row_f16", 3, 5001, F16, F16, F16, false},
    {"saturated_f32", 4, 9, F32, F32, F32, false, true},
};

class SoftmaxBackwardTest : public VkTestWithParam<BackwardCase> {};

TEST_P(SoftmaxBackwardTest, MatchesReference) {
  const BackwardCase& c = GetParam();
  vk::Context& ctx = context();
  const kernels::Softmax softmax(ctx);
  const size_t n = size_t(c.rows) * c.cols;
  // y as the forward leaves it: a softmax output, stored in y's type.
  const auto y = round_for(c.y,
                           reference::softmax(logits(n, F32, c.extreme, 20 + c.cols), c.rows, c.cols));
  const auto dy = round_for(c.dy, uniform(n, -1, 1, 30 + c.cols));
  const auto old = round_for(c.dx, uniform(n, -1, 1, 40 + c.cols));
  DeviceTensor by = make_tensor(ctx, y, n, c.y, "y");
  DeviceTensor bdy = make_tensor(ctx, dy, n, c.dy, "dy");
  DeviceTensor bdx =
      make_tensor(ctx, c.accumulate ? std::span<const double>(old) : std::span<const double>(), n, c.dx, "dx");
  run(ctx, [&](vk::Recorder& rec) {
    softmax.backward(rec, by.ref(), bdy.ref(), bdx.ref(), c.rows, c.cols, c.accumulate);
  });
  const auto got = read_back(ctx, bdx);
  auto want = reference::softmax_backward(y, dy, c.rows, c.cols);
  std::vector<double> tol(n);
  for (uint32_t r = 0; r < c.rows; ++r) {
    const size_t base = size_t(r) * c.cols;
    double dot = 0, magnitude = 0;
    for (size_t i = base; i < base + c.cols; ++i) {
      dot += dy[i] * y[i];
      magnitude += std::fabs(dy[i] * y[i]);
    }
    const double dot_err = (chain(c.cols) + 1) * kEps * magnitude;
    for (size_t i = base; i < base + c.cols; ++i) {
      const double fresh = want[i];
      tol[i] = std::fabs(y[i]) * (dot_err + kEps * std::fabs(dy[i] - dot)) + kEps * std::fabs(fresh);
      if (c.accumulate) {
        want[i] += old[i];
        tol[i] += kEps * (std::fabs(fresh) + std::fabs(old[i]));
      }
      tol[i] += u_out(c.dx) * std::fabs(want[i]) + tiny(c.dx);
    }
  }
  EXPECT_TRUE(all_close(got, want, tol));
}

INSTANTIATE_TEST_SUITE_P(Cases, SoftmaxBackwardTest, ::testing::ValuesIn(kBackwardCases),
                         [](const auto& p) { return std::string(p.param.name); });

using SoftmaxErrors = VkTest;

TEST_F(SoftmaxErrors, BadArgumentsAreRejected) {
  vk::Context& ctx = context();
  const kernels::Softmax softmax(ctx);
  vk::Buffer buf(ctx, {.size = 1024});
  const kernels::TensorRef x{buf.range(0, 256), F32}, y{buf.range(512, 256), F32};
  run(ctx, [&](vk::Recorder& rec) {
    EXPECT_THROW(softmax.forward(rec, x, y, 4, 0), Error);    // rows of no columns
    EXPECT_THROW(softmax.forward(rec, x, y, 8, 9), Error);    // 72 elements do not fit 256 bytes
    EXPECT_THROW(softmax.forward(rec, x, x, 4, 4), Error);    // in place
    EXPECT_THROW(softmax.backward(rec, y, x, x, 4, 4, false), Error);  // dx over dy
  });
}

}  // namespace
}  // namespace vkgrad::test
