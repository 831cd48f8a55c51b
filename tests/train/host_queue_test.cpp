// Training steps ordered with a host's work: a step waits on the host's timeline semaphore
// before it starts and signals it when done; and on an adopted device whose queue the host
// shares across threads, every vkgrad call on the queue happens inside the host's lock.
#include "adoption.hpp"
#include "numerics.hpp"
#include "small_models.hpp"
#include "vk/dispatch.hpp"
#include "vk_fixture.hpp"
#include "vkgrad/error.hpp"
#include "vkgrad/train/trainer.hpp"
#include "vkgrad/vk/context.hpp"
#include "vkgrad/vk/requirements.hpp"

#include <algorithm>
#include <chrono>
#include <string>
#include <thread>

namespace vkgrad::test {
namespace {

using vk::Feature;

graph::Graph small_mlp() { return small_mse_mlp(); }

train::Batch small_batch(std::vector<float>& x, std::vector<float>& y) {
  for (double v : uniform(12, -1, 1, 3)) x.push_back(float(v));
  for (double v : uniform(6, -1, 1, 4)) y.push_back(float(v));
  return {3, {{x}, {y}}};
}

using HostQueueTest = VkTest;

TEST_F(HostQueueTest, StepWaitsForAndSignalsTimelinePoints) {
  vk::Context& ctx = context();
  // Vulkan 1.2 requires every device to support timeline semaphores, and vkgrad enables them.
  ASSERT_TRUE(ctx.caps().enabled(Feature::TimelineSemaphore));
  const auto& d = ctx.vk().device;
  VkSemaphoreTypeCreateInfo type{VK_STRUCTURE_TYPE_SEMAPHORE_TYPE_CREATE_INFO};
  type.semaphoreType = VK_SEMAPHORE_TYPE_TIMELINE;
  VkSemaphoreCreateInfo sci{VK_STRUCTURE_TYPE_SEMAPHORE_CREATE_INFO, &type};
  struct Semaphore {
    vk::Context& ctx;
    VkSemaphore handle = VK_NULL_HANDLE;
    ~Semaphore() {
      if (handle) ctx.vk().device.vkDestroySemaphore(ctx.device(), handle, nullptr);
    }
  } owned{ctx};
  ASSERT_EQ(d.vkCreateSemaphore(ctx.device(), &sci, nullptr, &owned.handle), VK_SUCCESS);
  const VkSemaphore sem = owned.handle;
  {
    train::TrainerCreateInfo info;
    info.batch_size = 3;
    train::Trainer t(ctx, small_mlp(), info);
    std::vector<float> x, y;
    const auto batch = small_batch(x, y);
    const vk::TimelinePoint wait[] = {{sem, 1}}, signal[] = {{sem, 2}};
    t.step(batch, {wait, signal});
    // The host has not reached 1: the step must not run, however long we give it.
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    uint64_t value = 99;
    ASSERT_EQ(d.vkGetSemaphoreCounterValue(ctx.device(), sem, &value), VK_SUCCESS);
    EXPECT_EQ(value, 0u);
    EXPECT_EQ(t.metrics().steps, 0u);
    const VkSemaphoreSignalInfo host_signal{VK_STRUCTURE_TYPE_SEMAPHORE_SIGNAL_INFO, nullptr, sem, 1};
    ASSERT_EQ(d.vkSignalSemaphore(ctx.device(), &host_signal), VK_SUCCESS);
    const uint64_t two = 2;
    const VkSemaphoreWaitInfo until{VK_STRUCTURE_TYPE_SEMAPHORE_WAIT_INFO, nullptr, 0, 1, &sem, &two};
    EXPECT_EQ(d.vkWaitSemaphores(ctx.device(), &until, 60'000'000'000ull), VK_SUCCESS);
    EXPECT_EQ(t.metrics(train::Wait::Yes).steps, 1u);
  }
}

TEST_F(HostQueueTest, SharedQueueIsUsedOnlyUnderTheHostsLock) {
  vk::Context& host = context();
  int depth = 0, max_depth = 0, locks = 0, unlocks = 0;
  {
    vk::AdoptInfo adopt = adoption_of(host);
    adopt.lock_queue = [&] {
      ++locks;
      max_depth = std::max(max_depth, ++depth);
    };
    adopt.unlock_queue = [&] {
      ++unlocks;
      --depth;
    };
    vk::Context guest(adopt);
    train::TrainerCreateInfo info;
    info.batch_size = 3;
    train::Trainer t(guest, small_mlp(), info);
    std::vector<float> x, y;
    const auto batch = small_batch(x, y);
    const int before = locks;
    for (int i = 0; i < 4; ++i) t.step(batch);
    EXPECT_EQ(t.metrics(train::Wait::Yes).steps, 4u);
    EXPECT_GE(locks - before, 4) << "each step's submission takes the lock";
  }
  EXPECT_EQ(locks, unlocks);
  EXPECT_EQ(max_depth, 1) << "never nested, never held across calls";
  EXPECT_EQ(depth, 0);
}

TEST_F(HostQueueTest, LockWithoutUnlockIsRejected) {
  vk::AdoptInfo adopt = adoption_of(context());
  adopt.lock_queue = [] {};
  try {
    vk::Context guest(adopt);
    FAIL() << "expected vkgrad::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("unlock_queue"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace vkgrad::test
