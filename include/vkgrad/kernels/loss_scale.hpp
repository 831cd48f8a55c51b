// vkgrad::kernels::LossScale — the loss-scale pass and end-of-step bookkeeping
// (shaders/loss_scale.comp): unscale + overflow check + norm, then finalize, then advance.
// Holds pipelines only; recording is const. One thread at a time.
#pragma once

#include "vkgrad/vk/recorder.hpp"

#include <cstdint>

namespace vkgrad::vk {
class Context;
}

namespace vkgrad::kernels {

enum class ScaleMode : uint32_t { Dynamic = 0, Static = 1, Off = 2 };

// Mirrors shaders/loss_scale.comp's STAGE_ADVANCE push constants.
struct AdvanceArgs {
  ScaleMode mode = ScaleMode::Dynamic;
  float growth_factor = 2.0f;
  float backoff_factor = 0.5f;
  uint32_t growth_interval = 2000;
  uint32_t schedule = 0;  // a train::ScheduleKind code
  float base_lr = 1e-3f;
  float min_lr = 0.0f;
  uint32_t warmup_steps = 0;
  uint32_t total_steps = 0;
};
static_assert(sizeof(AdvanceArgs) <= 128);

class LossScale {
public:
  explicit LossScale(vk::Context& ctx);
  // Counts the inf and NaN values among the valid rows (state.valid_rows of at most `rows`) of
  // one float input feed: FP32 values, or FP16 ones where `halves`.
  void check_inputs(vk::Recorder& rec, const vk::BufferRange& state, const vk::BufferRange& feed, uint32_t rows,
                    uint32_t row_values, bool halves) const;
  // Workgroups (and partial sums) of the unscale stage for n gradients.
  static uint32_t partial_count(uint32_t n);
  // Checks the gradients times grad_unscale = 1/(scale · micro_batches) (the average over
  // accumulated micro-batches) without changing them: found_inf and Σg² partials; then
  // grad_norm, clip_coef, grad_unscale, loss and skip. The optimizer applies grad_unscale.
  void unscale(vk::Recorder& rec, const vk::BufferRange& state, const vk::BufferRange& grads, uint32_t n,
               const vk::BufferRange& partials, const vk::BufferRange& loss, float max_grad_norm,
               uint32_t micro_batches = 1) const;
  // After the optimizer: scale, counters, next learning rate; writes this step's record.
  void advance(vk::Recorder& rec, const vk::BufferRange& state, const vk::BufferRange& record,
               const AdvanceArgs& args) const;

private:
  const vk::Pipeline* check_inputs_;
  const vk::Pipeline* unscale_;
  const vk::Pipeline* finalize_;
  const vk::Pipeline* advance_;
};

}  // namespace vkgrad::kernels
