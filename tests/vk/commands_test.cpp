// CommandPool records replayable command buffers and Fence says when a replay finished.
#include "vk_fixture.hpp"
#include "vkgrad/vk/buffer.hpp"
#include "vkgrad/vk/commands.hpp"
#include "vkgrad/vk/context.hpp"

#include <utility>
#include <vector>

namespace vkgrad::test {
namespace {

class CommandsTest : public VkTest {
protected:
  vk::Context& ctx = context();
  vk::Buffer data{ctx, {.size = 64, .name = "data"}};

  std::vector<uint32_t> read() {
    std::vector<uint32_t> out(16);
    vk::download(ctx, data, std::span<uint32_t>(out));
    return out;
  }
};

TEST_F(CommandsTest, ARecordedBufferReplaysAndItsFenceSaysWhenDone) {
  vk::CommandPool pool(ctx);
  uint32_t value = 7;
  const auto fill = pool.record({}, true, [&](vk::Recorder& rec) { rec.fill(data.range(), value); });
  value = 9;  // recording is done: replays do what was recorded, not what the lambda would do now
  EXPECT_EQ(fill.timed, nullptr);  // no timestamps asked for: the Recorder is gone
  vk::Fence fence(ctx);
  EXPECT_FALSE(fence.signalled("test"));  // created unsignalled
  for (int replay = 0; replay < 2; ++replay) {
    vk::upload(ctx, data, std::span<const uint32_t>(std::vector<uint32_t>(16, 0)));
    fence.reset();
    ctx.submit({&fill.handle, 1}, fence.handle());
    fence.wait("test");
    EXPECT_TRUE(fence.signalled("test"));
    EXPECT_EQ(read(), std::vector<uint32_t>(16, 7)) << "replay " << replay;
  }
}

TEST_F(CommandsTest, TimedRecordingsKeepTheirRecorder) {
  vk::CommandPool pool(ctx);
  const auto timed = pool.record({.timestamps = true}, false, [&](vk::Recorder& rec) { rec.fill(data.range(), 1); });
  ASSERT_NE(timed.timed, nullptr);
  EXPECT_EQ(timed.timed->command_buffer(), timed.handle);
}

TEST_F(CommandsTest, AMovedFenceLeavesAnEmptyOne) {
  vk::Fence a(ctx);
  const VkFence handle = a.handle();
  vk::Fence b(std::move(a));
  EXPECT_FALSE(a);  // NOLINT(bugprone-use-after-move): the moved-from state is what is tested
  EXPECT_EQ(b.handle(), handle);
  vk::Fence c(ctx);
  c = std::move(b);
  EXPECT_EQ(c.handle(), handle);
}

}  // namespace
}  // namespace vkgrad::test
