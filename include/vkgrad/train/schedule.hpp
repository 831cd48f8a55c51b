// Learning-rate schedules, evaluated on the device each step (shaders/loss_scale.comp's advance
// stage); learning_rate() is their host twin. Plain values; thread-safe.
#pragma once

#include <cstdint>

namespace vkgrad::train {

// Codes match SCHEDULE_* in shaders/loss_scale.comp. For step t (0-based) and the optimizer's
// (or a parameter group's) rate lr:
//   Constant  lr
//   Warmup    lr·(t + 1)/warmup_steps while t < warmup_steps, then lr
//   Cosine    the same warmup, then min_lr + (lr − min_lr)·(1 + cos(π·s))/2 with
//             s = min((t − warmup_steps)/(total_steps − warmup_steps), 1): lr down to min_lr at
//             total_steps, held there after (PyTorch's linear warmup + CosineAnnealingLR).
// Every group's rate follows the same schedule.
enum class ScheduleKind : uint32_t { Constant = 0, Warmup = 1, Cosine = 2 };

struct ScheduleConfig {
  ScheduleKind kind = ScheduleKind::Constant;
  uint32_t warmup_steps = 0;  // Warmup, Cosine: linear from base_lr/warmup_steps up to base_lr
  uint32_t total_steps = 0;   // Cosine: the step at which the rate reaches min_lr
  float min_lr = 0.0f;
};

// The rate for step `iteration` (0-based) of a run whose optimizer rate is base_lr.
float learning_rate(const ScheduleConfig& schedule, float base_lr, uint32_t iteration);

}  // namespace vkgrad::train
