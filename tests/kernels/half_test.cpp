// fp32 → fp16 rounding: nearest with ties to even, subnormals kept, on the host (half_bits)
// and on the device (half_rte in shaders/common/words.glsl), bit for bit alike.
#include "numerics.hpp"
#include "vk_fixture.hpp"
#include "vkgrad/kernels/elementwise.hpp"
#include "vkgrad/vk/buffer.hpp"

#include <cfenv>
#include <cmath>
#include <cstring>
#include <random>

namespace vkgrad::test {
namespace {

// The correctly rounded fp16 value of f, computed in float64: the scaled quotient is exact,
// and nearbyint rounds ties to even in the default rounding mode.
double reference_half(float f) {
  if (std::isnan(f)) return f;
  const double v = std::fabs(double(f));
  if (v >= 65520.0) return std::copysign(INFINITY, f);
  const double unit = v < std::ldexp(1.0, -14) ? std::ldexp(1.0, -24) : std::ldexp(1.0, std::ilogb(v) - 10);
  return std::copysign(std::nearbyint(v / unit) * unit, f);
}

std::vector<float> probes() {
  std::vector<float> v = {0.0f, -0.0f, 1.0f, 65504.0f, 65519.0f, 65520.0f, 1e9f, INFINITY, -INFINITY,
                          std::ldexp(1.0f, -24), std::ldexp(1.0f, -25), std::ldexp(3.0f, -26), std::ldexp(1.0f, -14)};
  // Exact ties between neighbouring halves, at both parities, normal and subnormal.
  for (int e = -24; e <= 15; ++e)
    for (int m = 1024; m < 1034; ++m) {
      v.push_back(std::ldexp(float(2 * m + 1), e - 11));
      v.push_back(-std::ldexp(float(2 * m + 1), e - 11));
    }
  std::mt19937 rng(7);
  for (int i = 0; i < 20000; ++i) {
    const uint32_t bits = uint32_t(rng());
    float f;
    std::memcpy(&f, &bits, 4);
    if (std::isfinite(f) && std::fabs(f) < 1e6f && std::fabs(f) > 1e-10f) v.push_back(f);
    v.push_back(std::ldexp(float(rng() % 100000) / 1000.0f, int(rng() % 40) - 30));
  }
  return v;
}

TEST(HalfRounding, HostMatchesCorrectRounding) {
  ASSERT_EQ(std::fegetround(), FE_TONEAREST);
  for (float f : probes()) {
    const double got = kernels::half_value(kernels::half_bits(f));
    const double want = reference_half(f);
    ASSERT_EQ(std::signbit(got), std::signbit(want)) << f;
    ASSERT_EQ(got, want) << "f = " << f;
  }
  EXPECT_TRUE(std::isnan(kernels::half_value(kernels::half_bits(NAN))));
  EXPECT_EQ(kernels::half_bits(1.0f + std::ldexp(1.0f, -11)), 0x3C00);  // tie → even (1.0)
  EXPECT_EQ(kernels::half_bits(1.0f + std::ldexp(3.0f, -11)), 0x3C02);  // tie → even (1 + 2^-9)
}

using HalfDevice = VkTest;

TEST_F(HalfDevice, DeviceRoundsLikeTheHost) {
  vk::Context& ctx = context();
  const kernels::Elementwise ew(ctx);
  auto values = probes();
  values.push_back(NAN);
  const uint32_t n = uint32_t(values.size());
  vk::Buffer in(ctx, {.size = 4ull * n, .name = "f32"});
  vk::Buffer out(ctx, {.size = kernels::tensor_bytes(kernels::ElemType::F16, n), .name = "f16", .fill_nan = true});
  vk::upload(ctx, in, std::span<const float>(values));
  ctx.run_now([&](VkCommandBuffer cmd) {
    vk::Recorder rec(ctx, cmd);
    ew.unary(rec, kernels::UnaryOp::Identity, {in.range(), kernels::ElemType::F32}, {out.range(), kernels::ElemType::F16}, n);
  });
  std::vector<uint16_t> got(n + (n & 1));
  vk::download(ctx, out, got.data(), 2 * got.size());
  for (uint32_t i = 0; i + 1 < n; ++i) ASSERT_EQ(got[i], kernels::half_bits(values[i])) << "value " << values[i];
  EXPECT_EQ(got[n - 1] & 0x7C00, 0x7C00);  // NaN stays NaN
  EXPECT_NE(got[n - 1] & 0x3FF, 0);
}

}  // namespace
}  // namespace vkgrad::test
