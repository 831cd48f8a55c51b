// Max, average and adaptive pooling and their gradients against the float64 reference
// (PyTorch's windows and tie rule), fp32 and fp16, with accumulation; and the per-channel sum.
// The reference's gradients are checked against central differences first.
//
// Inputs are rounded to their storage type, so the reference sees what the device sees. Max
// forward copies a value: exact. Sums in fp32 of m terms err by m·2^-24·Σ|terms| (m: the window
// for averages and the outputs reaching an input for gradients, +2 for the division and the
// accumulation), then the rounding to the output type and its smallest step.
#include "device_tensor.hpp"
#include "numerics.hpp"
#include "reference/pool.hpp"
#include "vk_fixture.hpp"
#include "vkgrad/error.hpp"
#include "vkgrad/kernels/channel_reduce.hpp"
#include "vkgrad/kernels/pool.hpp"

#include <cmath>
#include <limits>
#include <string>

namespace vkgrad::test {
namespace {

using kernels::ElemType;

kernels::PoolGeometry geometry_of(const reference::PoolShape& s) {
  kernels::PoolGeometry g;
  g.kind = s.max ? kernels::PoolKind::Max : kernels::PoolKind::Average;
  g.planes = s.planes, g.in_h = s.h, g.in_w = s.w, g.kernel_h = s.kh, g.kernel_w = s.kw;
  g.stride_h = s.sh, g.stride_w = s.sw, g.pad_h = s.ph, g.pad_w = s.pw;
  g.adaptive = s.adaptive, g.adaptive_h = s.adaptive_h, g.adaptive_w = s.adaptive_w;
  return g;
}

TEST(PoolReference, GradientsMatchFiniteDifferences) {
  for (const bool max : {true, false}) {
    reference::PoolShape s;
    s.max = max, s.planes = 2, s.h = 5, s.w = 6, s.kh = 3, s.kw = 2, s.sh = 2, s.sw = 2, s.ph = 1;
    auto x = uniform(size_t(s.planes) * s.h * s.w, -1, 1, 1);  // distinct values: no ties
    const auto dy = uniform(size_t(s.planes) * s.out_h() * s.out_w(), -1, 1, 2);
    const auto loss = [&] {
      const auto y = reference::pool_forward(s, x);
      double l = 0;
      for (size_t i = 0; i < y.size(); ++i) l += dy[i] * y[i];
      return l;
    };
    const auto grad = reference::pool_backward(s, x, dy);
    // h far below the gaps between values: no argmax changes.
    for (size_t i = 0; i < x.size(); ++i)
      EXPECT_NEAR(grad[i], central_difference(x, i, 1e-7, loss), 1e-7) << (max ? "max " : "avg ") << i;
  }
}

struct PoolCase {
  const char* name;
  reference::PoolShape s;
  enum { Random, Ties, WithNan } values = Random;
};

class PoolTest : public VkTestWithParam<std::tuple<ElemType, PoolCase>> {};

TEST_P(PoolTest, ForwardAndBackwardMatchReference) {
  const auto& [t, pc] = GetParam();
  const auto& s = pc.s;
  vk::Context& ctx = context();
  const size_t nin = size_t(s.planes) * s.h * s.w, nout = size_t(s.planes) * s.out_h() * s.out_w();
  auto xv = uniform(nin, -2, 2, 21);
  if (pc.values == PoolCase::Ties)
    for (double& v : xv) v = std::round(v);  // five values: every window has ties
  if (pc.values == PoolCase::WithNan) xv[7] = std::numeric_limits<double>::quiet_NaN();
  const auto x = round_for(t, xv);
  const auto dy = round_for(t, uniform(nout, -1, 1, 22));
  const auto dx0 = round_for(t, uniform(nin, -1, 1, 23));  // the gradient accumulates onto this

  const auto dev_x = make_tensor(ctx, x, nin, t, "x");
  const auto dev_dy = make_tensor(ctx, dy, nout, t, "dy");
  const auto dev_y = make_tensor(ctx, {}, nout, t, "y");
  const auto dev_taps = make_tensor(ctx, {}, nout, t, "taps");
  const std::optional<kernels::TensorRef> taps = s.max ? std::optional(dev_taps.ref()) : std::nullopt;
  const auto dev_dx = make_tensor(ctx, dx0, nin, t, "dx");
  const kernels::Pool pool(ctx);
  const auto g = geometry_of(s);
  run(ctx, [&](vk::Recorder& rec) {
    pool.forward(rec, g, dev_x.ref(), dev_y.ref(), taps);
    pool.backward(rec, g, taps, dev_dy.ref(), dev_dx.ref(), true);
  });

  const auto want_y = reference::pool_forward(s, x);
  const auto got_y = read_back(ctx, dev_y);
  std::vector<double> tol_y(nout);
  const double window = s.adaptive ? double(s.h * s.w) : double(s.kh * s.kw);
  for (size_t i = 0; i < nout; ++i)
    tol_y[i] = s.max ? 0.0 : (window + 2) * kEps * 2.0 * window + u_out(t) * std::fabs(want_y[i]) + tiny(t);
  if (pc.values == PoolCase::WithNan) {
    // The NaN's windows give NaN; compare the others.
    for (size_t i = 0; i < nout; ++i)
      if (std::isnan(want_y[i])) {
        EXPECT_TRUE(std::isnan(got_y[i])) << "output " << i;
        tol_y[i] = std::numeric_limits<double>::infinity();
      }
  }
  std::vector<double> gy = got_y, wy = want_y;
  for (size_t i = 0; i < nout; ++i)
    if (std::isnan(wy[i])) gy[i] = wy[i] = 0;
  EXPECT_TRUE(all_close(gy, wy, tol_y)) << "forward";

  auto want_dx = reference::pool_backward(s, x, dy);
  for (size_t i = 0; i < nin; ++i) want_dx[i] += dx0[i];
  std::vector<double> tol_dx(nin);
  // An input is reached by at most ceil(k/s)² outputs (all of them, adaptively, in the worst case).
  const double reach = s.adaptive ? double(s.out_h() * s.out_w())
                                  : std::ceil(double(s.kh) / s.sh) * std::ceil(double(s.kw) / s.sw);
  for (size_t i = 0; i < nin; ++i)
    tol_dx[i] = (reach + 2) * kEps * (reach + 1) + u_out(t) * std::fabs(want_dx[i]) + tiny(t);
  EXPECT_TRUE(all_close(read_back(ctx, dev_dx), want_dx, tol_dx)) << "backward";
}

reference::PoolShape pool(bool max, uint32_t planes, uint32_t h, uint32_t w, uint32_t k, uint32_t stride,
                          uint32_t pad) {
  reference::PoolShape s;
  s.max = max, s.planes = planes, s.h = h, s.w = w, s.kh = s.kw = k, s.sh = s.sw = stride, s.ph = s.pw = pad;
  return s;
}

reference::PoolShape adaptive(uint32_t planes, uint32_t h, uint32_t w, uint32_t oh, uint32_t ow) {
  reference::PoolShape s;
  s.max = false, s.planes = planes, s.h = h, s.w = w, s.adaptive = true, s.adaptive_h = oh, s.adaptive_w = ow;
  return s;
}

const PoolCase kCases[] = {
    {"max2x2", pool(true, 6, 6, 6, 2, 2, 0)},
    {"max2x2_odd_edge", pool(true, 3, 7, 5, 2, 2, 0)},
    {"max3x3_s2_pad1_overlap", pool(true, 4, 7, 7, 3, 2, 1)},
    {"max_ties_first_wins", pool(true, 3, 6, 6, 3, 1, 1), PoolCase::Ties},
    {"max_nan_propagates", pool(true, 2, 4, 4, 2, 2, 0), PoolCase::WithNan},
    {"avg2x2", pool(false, 5, 6, 8, 2, 2, 0)},
    {"avg3x3_pad1_counts_padding", pool(false, 3, 5, 7, 3, 1, 1)},
    {"adaptive_7x5_to_3x2", adaptive(4, 7, 5, 3, 2)},
    {"global_average", adaptive(6, 7, 7, 1, 1)},
};

INSTANTIATE_TEST_SUITE_P(Types, PoolTest,
                         ::testing::Combine(::testing::Values(ElemType::F32, ElemType::F16), ::testing::ValuesIn(kCases)),
                         [](const ::testing::TestParamInfo<std::tuple<ElemType, PoolCase>>& param) {
                           return std::string(kernels::elem_type_name(std::get<0>(param.param))) + "_" +
                                  std::get<1>(param.param).name;
                         });

TEST_F(VkTest, PoolRejectsBadGeometry) {
  vk::Context& ctx = context();
  const auto x = make_tensor(ctx, {}, 64, ElemType::F32, "x");
  const auto y = make_tensor(ctx, {}, 64, ElemType::F32, "y");
  const auto taps = make_tensor(ctx, {}, 64, ElemType::F32, "taps");
  const kernels::Pool pool(ctx);
  run(ctx, [&](vk::Recorder& rec) {
    kernels::PoolGeometry g;
    g.planes = 1, g.in_h = g.in_w = 8, g.kernel_h = g.kernel_w = 2, g.stride_h = g.stride_w = 2;
    g.pad_h = 2;  // more than half the kernel
    EXPECT_THROW(pool.forward(rec, g, x.ref(), y.ref(), taps.ref()), Error);
    g.pad_h = 0;
    g.planes = 4;  // 256 inputs do not fit in x
    EXPECT_THROW(pool.forward(rec, g, x.ref(), y.ref(), taps.ref()), Error);
    g.planes = 1;
    EXPECT_THROW(pool.forward(rec, g, x.ref(), x.ref(), taps.ref()), Error);  // in place
    EXPECT_THROW(pool.forward(rec, g, x.ref(), y.ref()), Error);             // max pooling without taps
    EXPECT_THROW(pool.backward(rec, g, std::nullopt, y.ref(), x.ref(), false), Error);
  });
}

class ChannelSumTest : public VkTestWithParam<ElemType> {};

TEST_P(ChannelSumTest, MatchesReference) {
  const ElemType t = GetParam();
  vk::Context& ctx = context();
  for (const auto [samples, channels, pixels] : {std::array<uint32_t, 3>{3, 5, 49}, {2, 7, 1}, {128, 4, 196}, {1, 3, 1000}}) {
    const size_t n = size_t(samples) * channels * pixels;
    const auto x = round_for(t, uniform(n, -1, 1, 31));
    const auto dev_x = make_tensor(ctx, x, n, t, "x");
    const auto old = uniform(channels, -1, 1, 32);
    const auto sums = make_tensor(ctx, old, channels, ElemType::F32, "sums");
    const kernels::ChannelReduce reduce(ctx);
    run(ctx, [&](vk::Recorder& rec) { reduce.sum(rec, dev_x.ref(), sums.range(), samples, channels, pixels, true); });
    std::vector<double> magnitude;
    auto want = reference::channel_sum(x, samples, channels, pixels, &magnitude);
    std::vector<double> tol(channels);
    const double per_channel = double(samples) * pixels;
    for (uint32_t c = 0; c < channels; ++c) {
      want[c] += old[c];
      // A chain of at most per_channel additions (a workgroup of one), a tree of ≤ 8 levels
      // and the accumulation.
      tol[c] = (per_channel + 10) * kEps * (magnitude[c] + std::fabs(old[c])) + tiny(ElemType::F32);
    }
    EXPECT_TRUE(all_close(read_back(ctx, sums), want, tol)) << samples << "×" << channels << "×" << pixels;
  }
}

INSTANTIATE_TEST_SUITE_P(Types, ChannelSumTest, ::testing::Values(ElemType::F32, ElemType::F16),
                         [](const ::testing::TestParamInfo<ElemType>& param) {
                           return std::string(kernels::elem_type_name(param.param));
                         });

}  // namespace
}  // namespace vkgrad::test
