// The trainer's device-side step state and per-step record (mirror shaders/common/train_state.glsl):
// what the loss-scale, optimizer and loss kernels read and write between steps. Plain values;
// thread-safe.
#pragma once

#include <cstdint>

namespace vkgrad::train {

struct TrainState {
  float scale = 1.0f;
  uint32_t valid_rows = 0;
  uint32_t mean_rows = 0;  // rows the loss averages over when not valid_rows: a data-parallel step's global batch
  uint32_t found_inf = 0;
  uint32_t growth_tracker = 0;
  uint32_t iteration = 0;
  uint32_t optimizer_step = 0;
  uint32_t skipped_steps = 0;
  uint32_t nonfinite_losses = 0;
  float lr = 0.0f;
  float clip_coef = 1.0f;
  float loss = 0.0f;
  float grad_norm = 0.0f;
  uint32_t skip = 0;
  uint32_t inject_nonfinite = 0;  // written by the upload: poison one gradient this step
  float grad_unscale = 1.0f;      // 1/(scale · micro-batches), set by the loss-scale pass
  uint32_t micro_batch = 0;       // written by the upload: this step()'s index in its update
  uint32_t nonfinite_input_values = 0;  // inf or NaN values in this step's float inputs
  uint32_t nonfinite_inputs = 0;        // steps whose float inputs held inf or NaN
};
static_assert(sizeof(TrainState) == 76);

struct StepRecord {
  uint32_t iteration = 0;
  float loss = 0.0f;
  float scale = 0.0f;
  uint32_t skipped = 0;
  uint32_t optimizer_step = 0;
  uint32_t skipped_steps = 0;
  uint32_t nonfinite_losses = 0;
  float grad_norm = 0.0f;
  uint32_t nonfinite_inputs = 0;
};
static_assert(sizeof(StepRecord) == 36);

}  // namespace vkgrad::train
