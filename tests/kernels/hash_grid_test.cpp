// The hash encoding against float64: dense and hashed levels, fp32 and fp16 tables; the table
// gradient's deterministic fixed-point scatter (the same bits on every run, the accumulator
// left at zero).
//
// Tolerance. Forward: pos = x·N rounds in fp32 (its fraction by ≤ N·2^-24 absolute), so each
// weight errs by ≤ D·(N + 1)·2^-24, absolute, and each product by that times |table| ≤ 1;
// 2^D products and sums add (2^D + 1)·2^-24; then the output rounding. Backward: a term w·dy
// errs by the weight's error times |dy| plus 2^-24 relative, and is rounded to 2^-32 (at most
// rows·2^D terms reach one element); the total converts to fp32 once (2^-24 absolute of its
// fraction part, 2^-24 relative) and adds to the old gradient (2^-24 relative).
#include "device_tensor.hpp"
#include "numerics.hpp"
#include "reference/hash_grid.hpp"
#include "vk_fixture.hpp"
#include "vkgrad/error.hpp"
#include "vkgrad/kernels/hash_grid.hpp"

#include <array>
#include <cmath>
#include <cstring>
#include <string>
#include <tuple>

namespace vkgrad::test {
namespace {

using kernels::ElemType;

kernels::HashGridShape small_shape(uint32_t features = 2) {
  kernels::HashGridShape s;
  s.dims = 2, s.levels = 4, s.features = features, s.log2_table_size = 6, s.base_resolution = 3, s.growth = 2.0f;
  return s;
}

TEST(HashGridLevels, DenseWhereTheVerticesFitElseHashed) {
  const auto levels = kernels::hash_grid_levels(small_shape());
  ASSERT_EQ(levels.size(), 4u);
  const uint32_t res[] = {3, 6, 12, 24}, entries[] = {16, 49, 64, 64}, dense[] = {1, 1, 0, 0};
  uint32_t offset = 0;
  for (size_t l = 0; l < 4; ++l) {
    EXPECT_EQ(levels[l].resolution, res[l]) << l;
    EXPECT_EQ(levels[l].entries, entries[l]) << l;
    EXPECT_EQ(levels[l].dense, dense[l]) << l;
    EXPECT_EQ(levels[l].offset, offset) << l;
    offset += entries[l];
  }
  EXPECT_EQ(kernels::hash_grid_entries(levels), offset);
  auto bad = small_shape();
  bad.features = 9;
  EXPECT_THROW(kernels::hash_grid_levels(bad), Error);
  bad = small_shape();
  bad.growth = 1e3f;  // level 3: 3·10^9 cells a side
  EXPECT_THROW(kernels::hash_grid_levels(bad), Error);
}

// Instant-NGP's growth from base to finest, rounded to float, lands on the finest resolution
// (floor alone would give 127 for 16 → 128 over 16 levels).
TEST(HashGridLevels, GrowthReachesTheFinestResolution) {
  kernels::HashGridShape s;
  for (const auto [base, finest, levels] : {std::array<uint32_t, 3>{16, 128, 16}, {16, 512, 16}, {4, 100, 7}}) {
    s.base_resolution = base, s.levels = levels, s.growth = kernels::hash_grid_growth(base, finest, levels);
    const auto l = kernels::hash_grid_levels(s);
    EXPECT_EQ(l.front().resolution, base);
    EXPECT_EQ(l.back().resolution, finest) << base << " to " << finest << " over " << levels;
  }
  EXPECT_THROW(kernels::hash_grid_growth(16, 8, 4), Error);
}

// Even feature counts write whole output words per (row, level); odd ones share words between
// neighbouring levels.
class HashGridTest : public VkTestWithParam<std::tuple<ElemType, uint32_t>> {};

TEST_P(HashGridTest, ForwardAndDeterministicBackwardMatchFloat64) {
  const auto [t, features] = GetParam();
  vk::Context& ctx = context();
  const auto s = small_shape(features);
  const auto levels = kernels::hash_grid_levels(s);
  const uint32_t rows = 53, entries = kernels::hash_grid_entries(levels), width = s.levels * s.features;
  const size_t elements = size_t(entries) * s.features;
  auto xs = round_for(ElemType::F32, uniform(size_t(rows) * s.dims, 0, 1, 71));
  xs[0] = 1.0, xs[1] = 0.0;  // the edges: the last cell's far side, and the first
  const auto table = round_for(t, uniform(elements, -1, 1, 72));
  const auto dy = round_for(t, uniform(size_t(rows) * width, -1, 1, 73));
  std::vector<double> level_words;
  for (const auto& l : levels)
    for (uint32_t v : {l.resolution, l.offset, l.entries, l.dense}) level_words.push_back(v);
  std::vector<std::byte> level_bytes(4 * level_words.size());
  for (size_t i = 0; i < level_words.size(); ++i) {
    const auto v = uint32_t(level_words[i]);
    std::memcpy(level_bytes.data() + 4 * i, &v, 4);
  }
  const auto dev_levels = upload_bytes(ctx, level_bytes, "levels");
  const auto dev_x = make_tensor(ctx, xs, xs.size(), ElemType::F32, "x");
  const auto dev_table = make_tensor(ctx, table, elements, t, "table");
  const auto dev_dy = make_tensor(ctx, dy, dy.size(), t, "dy");
  const auto dev_y = make_tensor(ctx, {}, size_t(rows) * width, t, "y");
  const std::vector<double> zeros(kernels::hash_grid_accum_bytes(s) / 4, 0.0);
  const auto accum = make_tensor(ctx, zeros, zeros.size(), ElemType::F32, "accum");  // 0.0f is all-zero bits
  const auto g0 = uniform(elements, -1, 1, 74);
  const auto grads = make_tensor(ctx, g0, elements, ElemType::F32, "grads");
  const kernels::HashGrid grid(ctx);
  run(ctx, [&](vk::Recorder& rec) {
    grid.forward(rec, s, rows, dev_x.range(), dev_levels.range(), dev_table.ref(), dev_y.ref());
    grid.backward(rec, s, rows, dev_x.range(), dev_levels.range(), dev_dy.ref(), accum.range(), grads.range());
  });

  const double corners = double(1u << s.dims), top = double(levels.back().resolution);
  const double weight_err = s.dims * (top + 1) * kEps;
  const auto want_y = reference::hash_grid_forward(s, rows, xs, table);
  std::vector<double> tol_y(want_y.size());
  for (size_t i = 0; i < tol_y.size(); ++i)
    tol_y[i] = corners * weight_err + (corners + 1) * kEps * corners + u_out(t) * std::fabs(want_y[i]) + tiny(t);
  EXPECT_TRUE(all_close(read_back(ctx, dev_y), want_y, tol_y)) << "forward";

  std::vector<double> magnitude;
  auto want_g = reference::hash_grid_backward(s, rows, xs, dy, &magnitude);
  std::vector<double> tol_g(elements);
  for (size_t i = 0; i < elements; ++i) {
    want_g[i] += g0[i];
    tol_g[i] = magnitude[i] * (kEps + weight_err) + rows * corners * std::ldexp(1.0, -32) + kEps +
               2 * kEps * std::fabs(want_g[i]) + tiny(ElemType::F32);
  }
  const auto got = read_back(ctx, grads);
  EXPECT_TRUE(all_close(got, want_g, tol_g)) << "table gradient";
  EXPECT_EQ(read_back(ctx, accum), zeros) << "the accumulator is left at zero";

  // Again from the same start: the same bits.
  const auto grads2 = make_tensor(ctx, g0, elements, ElemType::F32, "grads again");
  run(ctx, [&](vk::Recorder& rec) {
    grid.backward(rec, s, rows, dev_x.range(), dev_levels.range(), dev_dy.ref(), accum.range(), grads2.range());
  });
  EXPECT_EQ(read_back(ctx, grads2), got) << "the scatter depends on the order of its atomics";

  // A non-finite dy overflows every gradient (so the loss scaler skips the step); the next
  // backward starts clean.
  auto bad_dy = dy;
  bad_dy[5] = t == ElemType::F16 ? INFINITY : 1e30;  // 1e30·w is past the fixed point's 2^31
  const auto dev_bad = make_tensor(ctx, bad_dy, bad_dy.size(), t, "dy with an overflow");
  const auto grads3 = make_tensor(ctx, g0, elements, ElemType::F32, "grads overflowed");
  const auto grads4 = make_tensor(ctx, g0, elements, ElemType::F32, "grads after");
  run(ctx, [&](vk::Recorder& rec) {
    grid.backward(rec, s, rows, dev_x.range(), dev_levels.range(), dev_bad.ref(), accum.range(), grads3.range());
  });
  run(ctx, [&](vk::Recorder& rec) {
    grid.backward(rec, s, rows, dev_x.range(), dev_levels.range(), dev_dy.ref(), accum.range(), grads4.range());
  });
  for (double g : read_back(ctx, grads3)) ASSERT_TRUE(std::isinf(g) && g > 0) << "an overflow was lost";
  EXPECT_EQ(read_back(ctx, grads4), got) << "the overflow word was not cleared";
}

INSTANTIATE_TEST_SUITE_P(Types, HashGridTest,
                         ::testing::Combine(::testing::Values(ElemType::F32, ElemType::F16), ::testing::Values(2u, 3u)),
                         [](const ::testing::TestParamInfo<std::tuple<ElemType, uint32_t>>& p) {
                           return std::string(kernels::elem_type_name(std::get<0>(p.param))) + "_features" +
                                  std::to_string(std::get<1>(p.param));
                         });

}  // namespace
}  // namespace vkgrad::test
