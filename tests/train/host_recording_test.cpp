// Recording for a host: training steps recorded into the test's own command buffer, reading
// their inputs from the test's buffers (shared feeds) that the same command buffer filled just
// before, and submitted by the test on its queue, train bitwise as step() does with the same
// data, and their metrics come back. Misuse is answered with errors naming the feed and sizes.
#include "host_commands.hpp"
#include "numerics.hpp"
#include "small_models.hpp"
#include "vk/dispatch.hpp"
#include "vk_fixture.hpp"
#include "vkgrad/error.hpp"
#include "vkgrad/infer/model.hpp"
#include "vkgrad/kernels/tensor_ref.hpp"
#include "vkgrad/train/trainer.hpp"
#include "vkgrad/vk/buffer.hpp"
#include "vkgrad/vk/context.hpp"

#include <cstring>
#include <memory>

namespace vkgrad::test {
namespace {

constexpr uint32_t kRows = 3;

graph::Graph small_mlp() { return small_mse_mlp(); }

struct HostRecordingTest : VkTest, ::testing::WithParamInterface<kernels::Precision> {};

TEST_P(HostRecordingTest, RecordedStepsTrainBitwiseAsStepDoes) {
  vk::Context& ctx = context();
  const bool mixed = GetParam() == kernels::Precision::Mixed;
  // Under mixed precision the layers read x as FP16; the loss reads its target y as FP32.
  const uint64_t x_bytes = kRows * 4 * (mixed ? 2 : 4), y_bytes = kRows * 2 * 4;
  vk::Buffer hx(ctx, {.size = x_bytes, .name = "host x"}), hy(ctx, {.size = y_bytes, .name = "host y"});
  vk::Buffer staging(ctx, {.size = x_bytes + y_bytes, .use = vk::MemoryUse::Upload, .name = "host staging"});
  train::TrainerCreateInfo info{.batch_size = kRows, .precision = GetParam()};
  train::Trainer reference(ctx, small_mlp(), info);
  info.shared_feeds = {{"x", hx.handle(), 0, x_bytes, mixed ? train::FeedType::F16 : train::FeedType::F32},
                       {"y", hy.handle(), 0, y_bytes, train::FeedType::F32}};
  train::Trainer hosted(ctx, small_mlp(), info);
  HostCommands host(ctx);

  for (int step = 0; step < 3; ++step) {
    std::vector<float> x, y;
    for (double v : uniform(kRows * 4, -1, 1, 10 + step)) x.push_back(float(v));
    for (double v : uniform(kRows * 2, -1, 1, 20 + step)) y.push_back(float(v));
    reference.step({kRows, {{x}, {y}}});

    // The host writes this step's rows into its staging memory, copies them into the shared
    // buffers in its command buffer, then has vkgrad record the step after them.
    auto* bytes = static_cast<std::byte*>(staging.mapped());
    for (size_t i = 0; i < x.size(); ++i) {
      if (mixed) {
        const uint16_t h = kernels::half_bits(x[i]);
        std::memcpy(bytes + 2 * i, &h, 2);
      } else {
        std::memcpy(bytes + 4 * i, &x[i], 4);
      }
    }
    std::memcpy(bytes + x_bytes, y.data(), y_bytes);
    staging.flush();
    host.begin();
    const VkBufferCopy to_x{0, 0, x_bytes}, to_y{x_bytes, 0, y_bytes};
    ctx.vk().device.vkCmdCopyBuffer(host.cmd, staging.handle(), hx.handle(), 1, &to_x);
    ctx.vk().device.vkCmdCopyBuffer(host.cmd, staging.handle(), hy.handle(), 1, &to_y);
    const vk::HostDependencies deps = hosted.record_step(host.cmd, kRows);
    EXPECT_EQ(deps.before.srcAccessMask, VK_ACCESS_2_MEMORY_WRITE_BIT);
    host.submit_and_wait();
  }

  const auto m = hosted.host_step_metrics(), r = reference.metrics(train::Wait::Yes);
  EXPECT_EQ(m.steps, 3u);
  EXPECT_EQ(m.loss, r.loss);
  EXPECT_EQ(m.loss_scale, r.loss_scale);
  for (const auto& name : reference.parameter_names())
    EXPECT_EQ(hosted.parameter(name), reference.parameter(name)) << name;
}

INSTANTIATE_TEST_SUITE_P(Precisions, HostRecordingTest,
                         ::testing::Values(kernels::Precision::Mixed, kernels::Precision::Fp32),
                         [](const auto& p) { return p.param == kernels::Precision::Mixed ? "mixed" : "fp32"; });

// An inference model recorded into the host's command buffer: inputs from the host's buffer,
// predictions into another of the host's buffers, bitwise as Model::predict gives them.
TEST_P(HostRecordingTest, RecordedPredictionsLandInTheHostsBuffer) {
  vk::Context& ctx = context();
  const bool mixed = GetParam() == kernels::Precision::Mixed;
  const uint64_t in_bytes = kRows * 4 * (mixed ? 2 : 4), out_bytes = kRows * 2 * (mixed ? 2 : 4);
  vk::Buffer hx(ctx, {.size = in_bytes, .name = "host x"}), hout(ctx, {.size = out_bytes, .name = "host predictions"});
  std::vector<float> x;
  for (double v : uniform(kRows * 4, -1, 1, 31)) x.push_back(float(v));
  std::vector<uint16_t> half;
  for (float v : x) half.push_back(kernels::half_bits(v));
  if (mixed)
    vk::upload(ctx, hx, std::span<const uint16_t>(half));
  else
    vk::upload(ctx, hx, std::span<const float>(x));
  const auto type = mixed ? train::FeedType::F16 : train::FeedType::F32;
  infer::Model plain(ctx, small_mlp(), {.batch_size = kRows, .precision = GetParam()});
  infer::Model hosted(ctx, small_mlp(),
                      {.batch_size = kRows,
                       .precision = GetParam(),
                       .shared_feeds = {{"x", hx.handle(), 0, in_bytes, type}},
                       .shared_predictions = train::SharedFeed{"", hout.handle(), 0, out_bytes, type}});
  HostCommands host(ctx);
  host.begin();
  hosted.record_predict(host.cmd, kRows);
  host.submit_and_wait();
  const auto want = plain.predict({kRows, {{x}}});
  std::vector<float> got(kRows * 2);
  if (mixed) {
    std::vector<uint16_t> h(kRows * 2);
    vk::download(ctx, hout, std::span<uint16_t>(h));
    for (size_t i = 0; i < h.size(); ++i) got[i] = kernels::half_value(h[i]);
  } else {
    vk::download(ctx, hout, std::span<float>(got));
  }
  EXPECT_EQ(got, want);
}

// Lifetimes, as config.hpp documents them: the host may destroy a shared buffer before the
// trainer once it submits nothing more that reads it, and the trainer (then the Context) goes
// afterwards without touching it; a trainer destroyed first leaves the host's buffers usable.
TEST_F(VkTest, SharedBuffersAndTrainersMayGoInEitherOrder) {
  vk::Context& ctx = context();
  const auto make = [&](vk::Buffer& hx, vk::Buffer& hy) {
    return std::make_unique<train::Trainer>(
        ctx, small_mlp(),
        train::TrainerCreateInfo{.batch_size = kRows,
                                 .precision = kernels::Precision::Fp32,
                                 .shared_feeds = {{"x", hx.handle(), 0, hx.size(), train::FeedType::F32},
                                                  {"y", hy.handle(), 0, hy.size(), train::FeedType::F32}}});
  };
  HostCommands host(ctx);
  {
    auto hx = std::make_unique<vk::Buffer>(ctx, vk::BufferCreateInfo{.size = kRows * 4 * 4, .name = "host x"});
    auto hy = std::make_unique<vk::Buffer>(ctx, vk::BufferCreateInfo{.size = kRows * 2 * 4, .name = "host y"});
    auto t = make(*hx, *hy);
    host.begin();
    t->record_step(host.cmd, kRows);
    host.submit_and_wait();
    hx.reset();  // the host's buffers first ...
    hy.reset();
    EXPECT_EQ(t->host_step_metrics().steps, 1u);
    t.reset();  // ... then the trainer
  }
  {
    vk::Buffer hx(ctx, {.size = kRows * 4 * 4, .name = "host x"}), hy(ctx, {.size = kRows * 2 * 4, .name = "host y"});
    {
      auto t = make(hx, hy);
      host.begin();
      t->record_step(host.cmd, kRows);
      host.submit_and_wait();
    }  // the trainer first: the host's buffers stay its own
    const std::vector<float> ones(kRows * 4, 1.0f);
    vk::upload(ctx, hx, std::span<const float>(ones));
    std::vector<float> back(kRows * 4);
    vk::download(ctx, hx, std::span<float>(back));
    EXPECT_EQ(back, ones);
  }
}

TEST_F(VkTest, SharedFeedMisuseIsAnsweredWithClearErrors) {
  vk::Context& ctx = context();
  vk::Buffer b(ctx, {.size = 1024, .name = "host buffer"});
  const auto error_of = [&](train::TrainerCreateInfo info) -> std::string {
    try {
      train::Trainer t(ctx, small_mlp(), info);
    } catch (const Error& e) {
      return e.what();
    }
    return "(no error)";
  };
  const train::TrainerCreateInfo base{.batch_size = kRows, .precision = kernels::Precision::Fp32};
  auto info = base;
  info.shared_feeds = {{"x", b.handle(), 0, 40, train::FeedType::F32}};
  EXPECT_NE(error_of(info).find("shared feed 'x': the host's range holds 40 bytes; the feed needs 48 (3 rows × 4 values of F32)"),
            std::string::npos) << error_of(info);
  info.shared_feeds = {{"x", b.handle(), 0, 48, train::FeedType::F16}};
  EXPECT_NE(error_of(info).find("shared feed 'x' is F16; the graph reads it as F32"), std::string::npos) << error_of(info);
  info.shared_feeds = {{"z", b.handle(), 0, 48, train::FeedType::F32}};
  EXPECT_NE(error_of(info).find("'z' is not a feed of the graph (its feeds: 'x', 'y')"), std::string::npos)
      << error_of(info);

  info.shared_feeds = {{"x", b.handle(), 0, 48, train::FeedType::F32}};
  train::Trainer t(ctx, small_mlp(), info);
  std::vector<float> x(kRows * 4), y(kRows * 2);
  try {
    t.step({kRows, {{x}, {y}}});
    ADD_FAILURE() << "data for a shared feed was taken";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("feed 'x' is shared"), std::string::npos) << e.what();
  }
  EXPECT_NO_THROW(t.step({kRows, {{}, {y}}}));
  HostCommands host(ctx);
  host.begin();
  try {
    t.record_step(host.cmd, kRows);
    ADD_FAILURE() << "a step with an unshared feed was recorded";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("feeds 'y' are not shared"), std::string::npos) << e.what();
  }
  ASSERT_EQ(ctx.vk().device.vkEndCommandBuffer(host.cmd), VK_SUCCESS);
  (void)t.metrics(train::Wait::Yes);
}

}  // namespace
}  // namespace vkgrad::test
