// Training where push descriptors are off (a device or host without VK_KHR_push_descriptor):
// the same passes bind descriptor sets, train bitwise as with push descriptors, reuse their
// sets when a step is recorded again every frame, and free them with the trainer's buffers.
#include "host_commands.hpp"
#include "numerics.hpp"
#include "vk/descriptor_sets.hpp"
#include "vk_fixture.hpp"
#include "vkgrad/train/trainer.hpp"

namespace vkgrad::test {
namespace {

graph::Graph mlp() {
  graph::Graph g;
  const auto x = g.input("x", {6});
  g.mse(g.linear(g.linear(x, 16, "a", graph::Activation::Relu), 3, "b"), g.input("y", {3}));
  return g;
}

TEST_F(VkTest, DescriptorSetsTrainAsPushDescriptorsDo) {
  vk::Context& sets_ctx = context({vk::Feature::PushDescriptor});
  ASSERT_FALSE(sets_ctx.caps().enabled(vk::Feature::PushDescriptor));
  ASSERT_NE(sets_ctx.descriptor_sets(), nullptr);
  const size_t before = sets_ctx.descriptor_sets()->live();
  std::vector<float> x, y;
  for (double v : uniform(8 * 6, -1, 1, 41)) x.push_back(float(v));
  for (double v : uniform(8 * 3, -1, 1, 42)) y.push_back(float(v));
  const train::TrainerCreateInfo info{.batch_size = 8, .precision = kernels::Precision::Fp32};
  {
    train::Trainer with_sets(sets_ctx, mlp(), info);
    const size_t compiled = sets_ctx.descriptor_sets()->live();
    EXPECT_GT(compiled, before);
    train::Trainer with_push(context(), mlp(), info);
    for (int i = 0; i < 5; ++i) {
      with_sets.step({8, {{x}, {y}}});
      with_push.step({8, {{x}, {y}}});
    }
    for (const auto& name : with_push.parameter_names())
      EXPECT_EQ(with_sets.parameter(name), with_push.parameter(name)) << name;
    EXPECT_EQ(sets_ctx.descriptor_sets()->live(), compiled) << "steps replay recorded passes: no new sets";
  }
  EXPECT_EQ(sets_ctx.descriptor_sets()->live(), before) << "the trainer's sets went with its buffers";
}

TEST_F(VkTest, RecordingEveryFrameReusesDescriptorSets) {
  vk::Context& ctx = context({vk::Feature::PushDescriptor});
  vk::Buffer hx(ctx, {.size = 8 * 6 * 4, .name = "host x"}), hy(ctx, {.size = 8 * 3 * 4, .name = "host y"});
  std::vector<float> x(8 * 6, 0.5f), y(8 * 3, -0.25f);
  vk::upload(ctx, hx, std::span<const float>(x));
  vk::upload(ctx, hy, std::span<const float>(y));
  train::Trainer t(ctx, mlp(),
                   {.batch_size = 8,
                    .precision = kernels::Precision::Fp32,
                    .shared_feeds = {{"x", hx.handle(), 0, hx.size(), train::FeedType::F32},
                                     {"y", hy.handle(), 0, hy.size(), train::FeedType::F32}}});
  HostCommands host(ctx);
  size_t after_first = 0;
  for (int frame = 0; frame < 3; ++frame) {
    host.begin();
    t.record_step(host.cmd, 8);
    host.submit_and_wait();
    if (frame == 0) after_first = ctx.descriptor_sets()->live();
  }
  EXPECT_EQ(ctx.descriptor_sets()->live(), after_first) << "frames 2 and 3 made no new sets";
  EXPECT_EQ(t.host_step_metrics().steps, 3u);
}

}  // namespace
}  // namespace vkgrad::test
