// Positive controls for the harness: a deliberate validation error and a planted
// synchronization hazard must each be reported and must fail the test that commits them.
#include "vk/dispatch.hpp"
#include "f32_add.hpp"
#include "numerics.hpp"
#include "vk_fixture.hpp"
#include "vkgrad/vk/buffer.hpp"

#include <gtest/gtest-spi.h>

namespace vkgrad::test {
namespace {

using Harness = VkTest;

TEST_F(Harness, DeliberateValidationErrorFailsTheTest) {
  vk::Context& ctx = context();
  VkFenceCreateInfo fi{VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
  fi.flags = 0x40;  // no such VkFenceCreateFlagBits: VUID-VkFenceCreateInfo-flags-parameter
  VkFence fence = VK_NULL_HANDLE;
  ASSERT_EQ(ctx.vk().device.vkCreateFence(ctx.device(), &fi, nullptr, &fence), VK_SUCCESS);
  ctx.vk().device.vkDestroyFence(ctx.device(), fence, nullptr);
  EXPECT_NONFATAL_FAILURE(expect_no_validation_messages(), "VUID-VkFenceCreateInfo-flags-parameter");
}

// Two Recorders on one command buffer do not see each other's accesses, so nothing orders the
// second add's read of y after the first one's write: synchronization validation must say so.
// (The layer's heuristic does not report a hazard between two uses of the same binding, so the
// second dispatch reads y as its x, through another binding than the first one wrote it.)
TEST_F(Harness, PlantedHazardIsReported) {
  vk::Context& ctx = context();
  const F32Add add(ctx);
  const uint32_t n = 1024;
  vk::Buffer x(ctx, {.size = 4 * n, .name = "x"});
  vk::Buffer y(ctx, {.size = 4 * n, .name = "y"});
  vk::Buffer z(ctx, {.size = 4 * n, .name = "z"});
  const auto zeros = encode(kernels::ElemType::F32, std::vector<double>(n, 0.0));
  for (const vk::Buffer* b : {&x, &y, &z}) vk::upload(ctx, *b, zeros.data(), zeros.size());
  ctx.run_now([&](VkCommandBuffer cmd) {
    vk::Recorder first(ctx, cmd);
    add.record(first, x.range(), y.range(), n);
    vk::Recorder second(ctx, cmd);
    add.record(second, y.range(), z.range(), n);
  });
  EXPECT_NONFATAL_FAILURE(expect_no_validation_messages(), "SYNC-HAZARD-READ-AFTER-WRITE");
}

TEST_F(Harness, CorrectRecordingIsClean) {
  vk::Context& ctx = context();
  const F32Add add(ctx);
  const uint32_t n = 1024;
  vk::Buffer x(ctx, {.size = 4 * n, .name = "x"});
  vk::Buffer y(ctx, {.size = 4 * n, .name = "y"});
  const auto zeros = encode(kernels::ElemType::F32, std::vector<double>(n, 0.0));
  vk::upload(ctx, x, zeros.data(), zeros.size());
  vk::upload(ctx, y, zeros.data(), zeros.size());
  ctx.run_now([&](VkCommandBuffer cmd) {
    vk::Recorder rec(ctx, cmd);
    add.record(rec, x.range(), y.range(), n);
    add.record(rec, x.range(), y.range(), n);
  });
  // The same two dispatches through one Recorder get their barrier: no message at all.
  const auto messages = take_validation_messages();
  EXPECT_TRUE(messages.empty()) << messages.front().id_name << ": " << messages.front().text;
}

// The same through transfer commands, which synchronization validation always tracks.
TEST_F(Harness, PlantedTransferHazardIsReported) {
  vk::Context& ctx = context();
  vk::Buffer a(ctx, {.size = 4096, .name = "a"});
  vk::Buffer b(ctx, {.size = 4096, .name = "b"});
  ctx.run_now([&](VkCommandBuffer cmd) {
    vk::Recorder first(ctx, cmd);
    first.fill(a.range(), 1);
    vk::Recorder second(ctx, cmd);
    second.copy(a.range(), b.range());
  });
  EXPECT_NONFATAL_FAILURE(expect_no_validation_messages(), "SYNC-HAZARD-READ-AFTER-WRITE");
}

}  // namespace
}  // namespace vkgrad::test
