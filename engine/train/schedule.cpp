#include "vkgrad/train/schedule.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace vkgrad::train {

// Keep in step with learning_rate() in shaders/loss_scale.comp: the same fp32 operations in the same order.
float learning_rate(const ScheduleConfig& s, float base_lr, uint32_t it) {
  if (s.kind == ScheduleKind::Constant) return base_lr;
  if (it < s.warmup_steps) return base_lr * float(it + 1) / float(s.warmup_steps);
  if (s.kind == ScheduleKind::Warmup) return base_lr;
  const uint32_t span = std::max(s.total_steps, s.warmup_steps + 1) - s.warmup_steps;
  const float t = std::min(float(it - s.warmup_steps) / float(span), 1.0f);
  return s.min_lr + (base_lr - s.min_lr) * 0.5f * (1.0f + std::cos(std::numbers::pi_v<float> * t));
}

}  // namespace vkgrad::train
