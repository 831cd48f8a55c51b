// fp32 sums of every storage variant against a float64 reference.
//
// Tolerance: inputs are taken as stored (rounded to the format first), so only fp32
// accumulation errs. The longest chain of additions is: each invocation's strided loop
// (2·ceil(pairs / (groups·256)) elements), the 8-level tree, the second pass's loop
// (ceil(groups/256)) and its tree; first-order error ≤ chain·2^-24·Σ|x|.
#include "numerics.hpp"
#include "storage_variants.hpp"
#include "reference/elementwise.hpp"
#include "vk_fixture.hpp"
#include "vkgrad/kernels/reduce.hpp"
#include "vkgrad/vk/buffer.hpp"

#include <cmath>
#include <cstring>

namespace vkgrad::test {
namespace {

using kernels::Storage;
using vk::Feature;

class ReduceTest : public VkTestWithParam<std::tuple<StorageVariant, uint32_t>> {};

TEST_P(ReduceTest, MatchesReference) {
  const auto& [variant, n] = GetParam();
  vk::Context& ctx = context(variant.disable);
  const kernels::ReduceSum reduce(ctx, variant.storage);
  const auto x = round_for(variant.storage, uniform(n, -1, 3, 7 + n));
  const auto xb = encode(variant.storage, x);
  const uint32_t groups = kernels::ReduceSum::partial_count(n);
  vk::Buffer bx(ctx, {.size = xb.size(), .name = "x"});
  vk::Buffer partials(ctx, {.size = 4ull * groups, .name = "partials", .fill_nan = true});
  vk::Buffer out(ctx, {.size = 4, .name = "sum", .fill_nan = true});
  vk::upload(ctx, bx, xb.data(), xb.size());
  ctx.run_now([&](VkCommandBuffer cmd) {
    vk::Recorder rec(ctx, cmd);
    reduce.record(rec, bx.range(0, xb.size()), n, partials.range(), out.range());
  });
  float got = 0;
  vk::download(ctx, out, &got, 4);
  const uint32_t pairs = (n + 1) / 2;
  const double chain = 2.0 * std::ceil(double(pairs) / (groups * 256.0)) + 8 + std::ceil(groups / 256.0) + 8;
  const double tol = chain * std::ldexp(1.0, -24) * reference::sum_abs(x) + std::ldexp(1.0, -149);
  EXPECT_NEAR(got, reference::sum(x), tol) << "n = " << n << ", chain " << chain;
}

INSTANTIATE_TEST_SUITE_P(Variants, ReduceTest,
                         ::testing::Combine(::testing::ValuesIn(storage_variants()),
                                            ::testing::Values(1u, 2u, 7u, 512u, 513u, 65537u, 1000001u)),
                         StorageCaseName());

}  // namespace
}  // namespace vkgrad::test
