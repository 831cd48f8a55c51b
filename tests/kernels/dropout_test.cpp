// Dropout's generator and masks: the host Philox4x32-10 against Random123's known answers, then
// the device's forward and backward against that host mask (the same elements kept, scaled by
// 1/(1 − p)), the kept fraction within 4σ of 1 − p, and masks that change with the step's
// iteration and micro-batch (the TrainState words the kernel reads) but not between calls.
//
// Tolerance: y = x·fl(1/(1 − p)) rounds twice in fp32 (2^-23 relative) before the output rounding.
#include "device_tensor.hpp"
#include "numerics.hpp"
#include "reference/philox.hpp"
#include "vk_fixture.hpp"
#include "vkgrad/error.hpp"
#include "vkgrad/kernels/dropout.hpp"
#include "vkgrad/train/step_state.hpp"

#include <cmath>
#include <string>
#include <tuple>

namespace vkgrad::test {
namespace {

using kernels::ElemType;

TEST(PhiloxReference, RandomOneTwoThreeKnownAnswers) {
  using A4 = std::array<uint32_t, 4>;
  EXPECT_EQ(reference::philox4x32_10({0, 0, 0, 0}, {0, 0}), (A4{0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}));
  EXPECT_EQ(reference::philox4x32_10({0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff}, {0xffffffff, 0xffffffff}),
            (A4{0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}));
  EXPECT_EQ(reference::philox4x32_10({0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}, {0xa4093822, 0x299f31d0}),
            (A4{0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}));
}

DeviceBytes state_buffer(vk::Context& ctx, uint32_t iteration, uint32_t micro_batch) {
  train::TrainState s;
  s.iteration = iteration;
  s.micro_batch = micro_batch;
  return upload_bytes(ctx, std::as_bytes(std::span(&s, 1)), "train state");
}

class DropoutTest : public VkTestWithParam<ElemType> {};

TEST_P(DropoutTest, MasksMatchTheHostGeneratorAndTheStep) {
  const ElemType t = GetParam();
  vk::Context& ctx = context();
  const uint32_t n = 4001;  // odd: the last fp16 word is half used
  const float p = 0.3f;
  const uint64_t seed = 0x123456789abcdefull;
  const auto x = round_for(t, uniform(n, -2, 2, 81));
  const auto dy = round_for(t, uniform(n, -1, 1, 82));
  const auto dx0 = round_for(t, uniform(n, -1, 1, 83));
  const auto dev_x = make_tensor(ctx, x, n, t, "x"), dev_dy = make_tensor(ctx, dy, n, t, "dy");
  const auto dev_y = make_tensor(ctx, {}, n, t, "y"), dev_y2 = make_tensor(ctx, {}, n, t, "y again");
  const auto dev_other = make_tensor(ctx, {}, n, t, "y, next iteration");
  const auto dev_micro = make_tensor(ctx, {}, n, t, "y, next micro-batch");
  const auto dev_dx = make_tensor(ctx, dx0, n, t, "dx");
  const auto s0 = state_buffer(ctx, 7, 0), s1 = state_buffer(ctx, 8, 0), s2 = state_buffer(ctx, 7, 1);
  const kernels::Dropout dropout(ctx);
  const kernels::DropoutMask m0{p, seed, 3, s0.range()};
  run(ctx, [&](vk::Recorder& rec) {
    dropout.forward(rec, m0, dev_x.ref(), dev_y.ref(), n);
    dropout.forward(rec, m0, dev_x.ref(), dev_y2.ref(), n);
    dropout.forward(rec, {p, seed, 3, s1.range()}, dev_x.ref(), dev_other.ref(), n);
    dropout.forward(rec, {p, seed, 3, s2.range()}, dev_x.ref(), dev_micro.ref(), n);
    dropout.backward(rec, m0, dev_dy.ref(), dev_dx.ref(), n, true);
  });
  const auto keep = reference::dropout_keep(n, p, seed, 3, 7, 0);
  const double scale = 1.0 / (1.0 - p);
  std::vector<double> want_y(n), want_dx(n), tol_y(n), tol_dx(n);
  size_t kept = 0;
  for (uint32_t i = 0; i < n; ++i) {
    kept += keep[i];
    want_y[i] = keep[i] ? x[i] * scale : 0.0;
    want_dx[i] = dx0[i] + (keep[i] ? dy[i] * scale : 0.0);
    tol_y[i] = (2 * 0x1p-23 + u_out(t)) * std::fabs(want_y[i]);
    tol_dx[i] = (2 * 0x1p-23) * std::fabs(dy[i] * scale) + u_out(t) * std::fabs(want_dx[i]) + tiny(t);
  }
  const auto y = read_back(ctx, dev_y);
  EXPECT_TRUE(all_close(y, want_y, tol_y)) << "forward";
  EXPECT_TRUE(all_close(read_back(ctx, dev_dx), want_dx, tol_dx)) << "backward (accumulated)";
  EXPECT_EQ(read_back(ctx, dev_y2), y) << "the same step must draw the same mask";
  const double sigma = std::sqrt(p * (1 - p) / n);
  EXPECT_NEAR(double(kept) / n, 1 - p, 4 * sigma);
  size_t differ_iteration = 0, differ_micro = 0;
  const auto other = read_back(ctx, dev_other), micro = read_back(ctx, dev_micro);
  for (uint32_t i = 0; i < n; ++i) {
    differ_iteration += (other[i] == 0.0) != (y[i] == 0.0);
    differ_micro += (micro[i] == 0.0) != (y[i] == 0.0);
  }
  // Independent masks disagree on 2p(1 − p) = 42 % of the elements.
  EXPECT_GT(differ_iteration, n / 4) << "the next iteration reused the mask";
  EXPECT_GT(differ_micro, n / 4) << "the next micro-batch reused the mask";
}

INSTANTIATE_TEST_SUITE_P(Types, DropoutTest, ::testing::Values(ElemType::F32, ElemType::F16),
                         [](const ::testing::TestParamInfo<ElemType>& p) {
                           return std::string(kernels::elem_type_name(p.param));
                         });

TEST_F(VkTest, DropoutRejectsBadProbabilities) {
  vk::Context& ctx = context();
  const auto x = make_tensor(ctx, uniform(8, -1, 1, 84), 8, ElemType::F32, "x");
  const auto y = make_tensor(ctx, {}, 8, ElemType::F32, "y");
  const auto s = state_buffer(ctx, 0, 0);
  const kernels::Dropout dropout(ctx);
  run(ctx, [&](vk::Recorder& rec) {
    EXPECT_THROW(dropout.forward(rec, {1.0f, 0, 0, s.range()}, x.ref(), y.ref(), 8), Error);
    EXPECT_THROW(dropout.forward(rec, {-0.1f, 0, 0, s.range()}, x.ref(), y.ref(), 8), Error);
  });
}

}  // namespace
}  // namespace vkgrad::test
