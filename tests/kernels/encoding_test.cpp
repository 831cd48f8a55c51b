// Gaussian Fourier features against float64: arguments 2π·B·x up to a few hundred radians (σ 10
// and coordinates in [0, 1], as the neural_image demo feeds them), fp32 and fp16 outputs.
//
// Tolerance: the argument is an fp32 dot product of `in` terms scaled by 2π, off by
// (in + 2)·2^-24·2π·Σ|B·x| radians; sin and cos then add Vulkan's 2^-11 absolute on [−π, π]
// after the reduction (|z|·2^-30); then the output rounding.
#include "device_tensor.hpp"
#include "numerics.hpp"
#include "vk_fixture.hpp"
#include "vkgrad/error.hpp"
#include "vkgrad/kernels/encoding.hpp"

#include <cmath>
#include <numbers>
#include <random>
#include <string>

namespace vkgrad::test {
namespace {

using kernels::ElemType;

class FourierTest : public VkTestWithParam<ElemType> {};

TEST_P(FourierTest, MatchesFloat64) {
  const ElemType t = GetParam();
  vk::Context& ctx = context();
  const uint32_t rows = 37, in = 2, freqs = 24;
  const auto x = round_for(ElemType::F32, uniform(size_t(rows) * in, 0, 1, 51));
  std::mt19937 rng(52);
  std::normal_distribution<double> normal(0.0, 10.0);
  std::vector<double> b(size_t(freqs) * in);
  for (double& v : b) v = double(float(normal(rng)));
  const auto dx = make_tensor(ctx, x, x.size(), ElemType::F32, "x");
  const auto db = make_tensor(ctx, b, b.size(), ElemType::F32, "B");
  const auto dy = make_tensor(ctx, {}, size_t(rows) * 2 * freqs, t, "y");
  const kernels::Encoding enc(ctx);
  run(ctx, [&](vk::Recorder& rec) { enc.fourier(rec, dx.range(), db.range(), dy.ref(), rows, in, freqs); });
  std::vector<double> want, tol;
  for (uint32_t r = 0; r < rows; ++r)
    for (uint32_t j = 0; j < 2 * freqs; ++j) {
      double z = 0, mag = 0;
      for (uint32_t k = 0; k < in; ++k) {
        z += b[(j % freqs) * in + k] * x[r * in + k];
        mag += std::fabs(b[(j % freqs) * in + k] * x[r * in + k]);
      }
      z *= 2 * std::numbers::pi;
      const double v = j < freqs ? std::sin(z) : std::cos(z);
      want.push_back(v);
      tol.push_back((in + 2) * kEps * 2 * std::numbers::pi * mag + std::ldexp(1.0, -11) + std::fabs(z) * std::ldexp(1.0, -30) +
                    u_out(t) * std::fabs(v) + tiny(t));
    }
  EXPECT_TRUE(all_close(read_back(ctx, dy), want, tol));
}

INSTANTIATE_TEST_SUITE_P(Types, FourierTest, ::testing::Values(ElemType::F32, ElemType::F16),
                         [](const ::testing::TestParamInfo<ElemType>& p) {
                           return std::string(kernels::elem_type_name(p.param));
                         });

TEST_F(VkTest, FourierRejectsShortRanges) {
  vk::Context& ctx = context();
  const auto small = make_tensor(ctx, {}, 4, ElemType::F32, "small");
  const kernels::Encoding enc(ctx);
  run(ctx, [&](vk::Recorder& rec) {
    EXPECT_THROW(enc.fourier(rec, small.range(), small.range(), small.ref(), 8, 2, 4), Error);
    EXPECT_THROW(enc.fourier(rec, small.range(), small.range(), small.ref(), 0, 2, 4), Error);
  });
}

}  // namespace
}  // namespace vkgrad::test
