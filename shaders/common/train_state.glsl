// The trainer's per-step state on the device (mirrors vkgrad::train::TrainState). The host
// writes it once at start-up; afterwards only the device advances it, so a step needs no host
// round trip. The first three words double as the loss kernels' LossParams.
#ifndef VKGRAD_TRAIN_STATE_GLSL
#define VKGRAD_TRAIN_STATE_GLSL

struct TrainState {
  float scale;             // loss scale this step uses
  uint valid_rows;         // rows of this step's batch (written by the upload)
  uint mean_rows;          // 0, or the rows the loss averages over (data parallel: the global batch's)
  uint found_inf;          // a gradient of this step is inf or NaN
  uint growth_tracker;     // clean steps since the scale last changed
  uint iteration;          // steps taken, skipped or not: drives the schedule and RNG
  uint optimizer_step;     // steps applied: drives Adam's bias correction
  uint skipped_steps;      // steps not applied (gradient overflow or non-finite loss)
  uint nonfinite_losses;   // steps whose loss was inf or NaN
  float lr;                // this step's learning rate
  float clip_coef;         // this step's gradient-clipping factor (1 when off or not needed)
  float loss;              // this step's mean loss
  float grad_norm;         // global L2 norm of the unscaled gradients
  uint skip;               // this step is not applied
  uint inject_nonfinite;   // testing: poison one gradient this step (written by the upload)
  float grad_unscale;      // 1/(scale · micro-batches): raw gradient → this step's mean gradient
  uint micro_batch;        // this step()'s index within its update (written by the upload)
  uint nonfinite_input_values;  // inf or NaN values in this step's float inputs (the input check)
  uint nonfinite_inputs;   // steps whose float inputs held inf or NaN
};

// The record each step leaves for the host (mirrors vkgrad::train::StepRecord).
struct StepRecord {
  uint iteration;
  float loss;
  float scale;
  uint skipped;
  uint optimizer_step;
  uint skipped_steps;
  uint nonfinite_losses;
  float grad_norm;
  uint nonfinite_inputs;
};

bool not_finite(float x) { return (floatBitsToUint(x) & 0x7F800000u) == 0x7F800000u; }

#endif
