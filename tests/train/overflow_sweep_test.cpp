// The overflow sweep: 300 mixed-precision AdamW steps, of which 100 chosen at random get an
// infinite gradient injected (as an fp16 overflow gives) and 10 others an infinite input (a
// non-finite loss). Every such step is skipped with the masters and both Adam moments bitwise
// as they were; every other step moves the masters; and the scale each step used follows the
// device's GradScaler rules exactly, replayed here on the host: an overflow multiplies the scale
// by the backoff factor and restarts the growth count, growth_interval clean steps in a row
// multiply it by the growth factor, a non-finite loss leaves both alone (no scale can fix a
// forward overflow). Scales are powers of two, so the comparison is exact.
#include "numerics.hpp"
#include "small_models.hpp"
#include "vk_fixture.hpp"
#include "vkgrad/train/trainer.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <random>
#include <set>

namespace vkgrad::test {
namespace {

using OverflowSweep = VkTest;

bool same_tensors(const train::TrainingState& a, const train::TrainingState& b) {
  if (a.tensors.size() != b.tensors.size()) return false;
  for (const auto& [name, t] : a.tensors) {
    const auto it = b.tensors.find(name);
    if (it == b.tensors.end() || it->second.values.size() != t.values.size() ||
        !std::equal(t.values.begin(), t.values.end(), it->second.values.begin(),
                    [](float x, float y) { return std::bit_cast<uint32_t>(x) == std::bit_cast<uint32_t>(y); }))
      return false;
  }
  return true;
}

TEST_F(OverflowSweep, EveryInjectedOverflowIsSkippedBitwiseAndTheScaleFollowsGradScaler) {
  constexpr uint32_t kSteps = 300, kOverflows = 100, kBadLosses = 10, kRows = 8;
  train::TrainerCreateInfo info{.batch_size = kRows, .precision = kernels::Precision::Mixed};
  info.optimizer = train::OptimizerConfig::adamw(1e-3f);
  info.loss_scale.init_scale = 1024.0f;
  info.loss_scale.growth_interval = 5;  // growth many times over the run, between the overflows
  info.seed = 3;
  train::Trainer trainer(context(), small_mse_mlp(), info);

  std::mt19937 rng(2024);
  std::vector<uint32_t> order(kSteps);
  for (uint32_t i = 0; i < kSteps; ++i) order[i] = i;
  std::shuffle(order.begin(), order.end(), rng);
  const std::set<uint32_t> overflow(order.begin(), order.begin() + kOverflows);
  const std::set<uint32_t> bad_loss(order.begin() + kOverflows, order.begin() + kOverflows + kBadLosses);

  float scale = info.loss_scale.init_scale;
  uint32_t clean_run = 0;
  for (uint32_t s = 0; s < kSteps; ++s) {
    std::vector<float> x, y;
    for (double v : uniform(kRows * 4, -1, 1, 100 + s)) x.push_back(float(v));
    for (double v : uniform(kRows * 2, -1, 1, 1000 + s)) y.push_back(float(v));
    if (bad_loss.contains(s)) x[5] = INFINITY;
    train::Batch batch{kRows, {{x}, {y}}};
    batch.inject_nonfinite_gradient = overflow.contains(s);
    const auto before = trainer.save_state();
    trainer.step(batch);
    const auto m = trainer.metrics(train::Wait::Yes);
    const auto after = trainer.save_state();
    const bool skip = overflow.contains(s) || bad_loss.contains(s);
    ASSERT_EQ(m.skipped, skip) << "step " << s;
    ASSERT_EQ(m.loss_scale, scale) << "step " << s;
    ASSERT_EQ(same_tensors(before, after), skip) << "step " << s << (skip ? ": a skipped step changed the state"
                                                                          : ": a clean step left the masters as they were");
    if (overflow.contains(s)) {
      scale *= info.loss_scale.backoff_factor;
      clean_run = 0;
    } else if (!bad_loss.contains(s) && ++clean_run == info.loss_scale.growth_interval) {
      scale *= info.loss_scale.growth_factor;
      clean_run = 0;
    }
  }
  const auto m = trainer.metrics(train::Wait::Yes);
  EXPECT_EQ(m.steps, kSteps);
  EXPECT_EQ(m.skipped_steps, kOverflows + kBadLosses);
  EXPECT_EQ(m.nonfinite_losses, kBadLosses);
  EXPECT_EQ(m.optimizer_steps, kSteps - kOverflows - kBadLosses);
  EXPECT_EQ(trainer.save_state().device.scale, scale);
}

}  // namespace
}  // namespace vkgrad::test
