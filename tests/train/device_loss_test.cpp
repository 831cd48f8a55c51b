// Device loss, reported where a driver reports it (vkQueueSubmit2, the fence waits, vkMapMemory)
// from a chosen moment on: step(), metrics(), evaluate() and checkpoint saving answer with a
// vkgrad::Error carrying VK_ERROR_DEVICE_LOST, never a hang or a crash; a failed save leaves no
// file behind; and the checkpoint saved before the loss loads into a trainer on a new Context
// and resumes bitwise where it was.
#include "numerics.hpp"
#include "small_models.hpp"
#include "vk/dispatch.hpp"
#include "vk_fixture.hpp"
#include "vkgrad/error.hpp"
#include "vkgrad/io/checkpoint.hpp"
#include "vkgrad/train/trainer.hpp"

#include <atomic>
#include <filesystem>
#include <functional>
#include <random>

namespace vkgrad::test {
namespace {

enum class Lost { Nothing, Submit, Wait, Map };
std::atomic<Lost> g_lost{Lost::Nothing};
PFN_vkQueueSubmit2 g_submit = nullptr;
PFN_vkWaitForFences g_wait = nullptr;
PFN_vkGetFenceStatus g_status = nullptr;
PFN_vkMapMemory g_map = nullptr;

VKAPI_ATTR VkResult VKAPI_CALL submit(VkQueue q, uint32_t n, const VkSubmitInfo2* s, VkFence f) {
  return g_lost == Lost::Submit ? VK_ERROR_DEVICE_LOST : g_submit(q, n, s, f);
}
VKAPI_ATTR VkResult VKAPI_CALL wait(VkDevice d, uint32_t n, const VkFence* f, VkBool32 all, uint64_t timeout) {
  // The real wait first: the work was submitted, and the test's cleanup must find it done.
  const VkResult r = g_wait(d, n, f, all, timeout);
  return g_lost == Lost::Wait ? VK_ERROR_DEVICE_LOST : r;
}
// A lost device fails every later call; the modes say where the loss is first seen.
VKAPI_ATTR VkResult VKAPI_CALL status(VkDevice d, VkFence f) {
  const VkResult r = g_status(d, f);
  return g_lost != Lost::Nothing ? VK_ERROR_DEVICE_LOST : r;
}
VKAPI_ATTR VkResult VKAPI_CALL map(VkDevice d, VkDeviceMemory m, VkDeviceSize o, VkDeviceSize s, VkMemoryMapFlags f,
                                   void** p) {
  return g_lost == Lost::Map ? VK_ERROR_DEVICE_LOST : g_map(d, m, o, s, f, p);
}

vk::ContextCreateInfo losing_create_info() {
  auto info = strict_create_info();
  info.pipeline_cache_on_disk = false;
  info.tune_kernels = false;
  info.patch_dispatch = [](vk::DispatchTable& t) {
    g_submit = t.device.vkQueueSubmit2, t.device.vkQueueSubmit2 = submit;
    g_wait = t.device.vkWaitForFences, t.device.vkWaitForFences = wait;
    g_status = t.device.vkGetFenceStatus, t.device.vkGetFenceStatus = status;
    g_map = t.device.vkMapMemory, t.device.vkMapMemory = map;
  };
  return info;
}

constexpr uint32_t kRows = 4;

train::Batch batch(uint32_t seed) {
  static std::vector<std::vector<float>> keep;
  std::vector<float> x, y;
  for (double v : uniform(kRows * 4, -1, 1, seed)) x.push_back(float(v));
  for (double v : uniform(kRows * 2, -1, 1, seed + 500)) y.push_back(float(v));
  keep = {x, y};
  return {kRows, {{keep[0]}, {keep[1]}}};
}

// Runs `op`; true when it threw vkgrad::Error for a lost device (any other outcome but success
// fails the test).
bool lost_in(const char* what, const std::function<void()>& op) {
  try {
    op();
    return false;
  } catch (const Error& e) {
    EXPECT_EQ(e.result(), VK_ERROR_DEVICE_LOST) << what << ": " << e.what();
    return true;
  }
}

class DeviceLoss : public VkTestWithParam<Lost> {
protected:
  void TearDown() override { g_lost = Lost::Nothing; }
};

TEST_P(DeviceLoss, EveryCallAnswersWithAnErrorAndTheLastCheckpointResumes) {
  const Lost where = GetParam();
  const auto dir = std::filesystem::temp_directory_path() / ("vkgrad-loss-" + std::to_string(std::random_device{}()));
  std::filesystem::create_directories(dir);
  const train::TrainerCreateInfo info{.batch_size = kRows, .precision = kernels::Precision::Mixed, .seed = 5};
  train::TrainingState saved;
  {
    vk::Context ctx(losing_create_info());
    auto trainer = std::make_unique<train::Trainer>(ctx, small_mse_mlp(), info);
    for (uint32_t s = 0; s < 3; ++s) trainer->step(batch(s));
    saved = trainer->save_state();
    io::save_checkpoint(dir / "good.safetensors", saved);

    if (where == Lost::Map) {
      // Host-visible memory is mapped when a block of it is allocated: a trainer's staging ring
      // on a Context that has none yet.
      vk::Context other(losing_create_info());
      g_lost = where;
      EXPECT_TRUE(lost_in("a new trainer", [&] { train::Trainer t(other, small_mse_mlp(), info); }));
    } else {
      g_lost = where;
      const bool step = lost_in("step", [&] { trainer->step(batch(10)); });
      const bool metrics = lost_in("metrics", [&] { (void)trainer->metrics(train::Wait::Yes); });
      EXPECT_TRUE(lost_in("evaluate", [&] { (void)trainer->evaluate(batch(11)); }));
      EXPECT_TRUE(lost_in("save", [&] { io::save_checkpoint(dir / "after.safetensors", trainer->save_state()); }));
      EXPECT_FALSE(std::filesystem::exists(dir / "after.safetensors"));
      EXPECT_TRUE(where != Lost::Submit || step) << "step() submitted on a lost device";
      EXPECT_TRUE(where != Lost::Wait || metrics) << "metrics() waited past a lost device";
    }
    g_lost = Lost::Nothing;
    ctx.wait_idle();
    trainer.reset();
  }
  // A new Context (the old one stands for the lost device) resumes from the checkpoint.
  vk::Context fresh(strict_create_info());
  train::Trainer resumed(fresh, small_mse_mlp(), info);
  resumed.load_state(io::load_checkpoint(dir / "good.safetensors"));
  for (const auto& [name, t] : saved.tensors)
    if (name.rfind("optim.", 0) != 0) {
      EXPECT_EQ(resumed.parameter(name), t.values) << name;
    }
  resumed.step(batch(3));
  EXPECT_EQ(resumed.metrics(train::Wait::Yes).steps, 4u);
  std::filesystem::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(Where, DeviceLoss, ::testing::Values(Lost::Submit, Lost::Wait, Lost::Map),
                         [](const ::testing::TestParamInfo<Lost>& p) {
                           return p.param == Lost::Submit ? "submit" : p.param == Lost::Wait ? "fence_wait" : "map";
                         });

}  // namespace
}  // namespace vkgrad::test
