// y = a·x + y under every storage variant, against a float64 reference.
//
// Tolerance: the device computes in fp32 from inputs already in the storage format, so the
// reference takes the same rounded inputs. Errors: the fp32 product and sum (each ≤ 2^-24
// relative to its own magnitude: ≤ 2^-23·(|a·x| + |y|) together, which matters under
// cancellation), then the rounding to the storage format (≤ u·|ref|, u = 2^-11 for fp16;
// for fp32 that rounding is the sum's own) and one subnormal step of the format.
#include "numerics.hpp"
#include "storage_variants.hpp"
#include "reference/elementwise.hpp"
#include "vk_fixture.hpp"
#include "vkgrad/kernels/axpy.hpp"
#include "vkgrad/vk/buffer.hpp"

#include <cmath>

namespace vkgrad::test {
namespace {

using kernels::Storage;
using vk::Feature;

class AxpyTest : public VkTestWithParam<std::tuple<StorageVariant, uint32_t>> {};

TEST_P(AxpyTest, MatchesReference) {
  const auto& [variant, n] = GetParam();
  vk::Context& ctx = context(variant.disable);
  const kernels::Axpy axpy(ctx, variant.storage);
  const double a = -1.75;
  const auto x = round_for(variant.storage, uniform(n, -2, 2, 1 + n));
  const auto y = round_for(variant.storage, uniform(n, -2, 2, 2 + n));
  const auto xb = encode(variant.storage, x), yb = encode(variant.storage, y);
  vk::Buffer bx(ctx, {.size = xb.size(), .name = "x", .fill_nan = true});
  vk::Buffer by(ctx, {.size = yb.size(), .name = "y", .fill_nan = true});
  vk::upload(ctx, bx, xb.data(), xb.size());
  vk::upload(ctx, by, yb.data(), yb.size());
  ctx.run_now([&](VkCommandBuffer cmd) {
    vk::Recorder rec(ctx, cmd);
    axpy.record(rec, bx.range(0, xb.size()), by.range(0, yb.size()), n, float(a));
  });
  std::vector<std::byte> out(yb.size());
  vk::download(ctx, by, out.data(), out.size());
  const auto ref = reference::axpy(a, x, y);
  const bool fp32 = variant.storage == Storage::F32;
  const double u = fp32 ? 0.0 : unit_roundoff(variant.storage);
  const double tiny = fp32 ? std::ldexp(1.0, -149) : std::ldexp(1.0, -24);
  std::vector<double> tol(n);
  for (uint32_t i = 0; i < n; ++i)
    tol[i] = std::ldexp(1.0, -23) * (std::fabs(a * x[i]) + std::fabs(y[i])) + u * std::fabs(ref[i]) + tiny;
  EXPECT_TRUE(all_close(decode(variant.storage, out, n), ref, tol));
  // The packed form keeps the padding half of an odd-length tensor as it was.
  if (variant.storage == Storage::F16x2 && n % 2) {
    EXPECT_EQ(out[out.size() - 1], yb[yb.size() - 1]);
  }
}

INSTANTIATE_TEST_SUITE_P(Variants, AxpyTest,
                         ::testing::Combine(::testing::ValuesIn(storage_variants()),
                                            ::testing::Values(1u, 2u, 3u, 255u, 511u, 512u, 513u, 100003u)),
                         StorageCaseName());

// A device without 16-bit storage gets the packed variant, never fp32 storage.
TEST(AxpyVariant, NoStorage16MeansPacked) {
  EXPECT_EQ(kernels::select_storage(context({Feature::Storage16}).caps(), kernels::Precision::Mixed), Storage::F16x2);
  expect_no_validation_messages();
}

}  // namespace
}  // namespace vkgrad::test
