#version 460
// The loss-scale pass and the end-of-step bookkeeping, one entry per STAGE define:
//
// STAGE_UNSCALE   Reads the flat FP32 gradients as they are (scaled, summed over micro-batches)
//                 and leaves them so: the optimizer multiplies by grad_unscale, which saves
//                 writing every gradient back. found_inf if any unscaled value is inf or NaN;
//                 partials[workgroup] = Σ g² of its unscaled elements.
//                 Bindings: 0 state (rw), 1 grads [n] (rw), 2 partials [workgroups] (w).
//                 Dispatch: LossScale::partial_count(n) workgroups of 256, grid-stride, at
//                 least 32 elements per invocation: every workgroup pays a reduction tree.
// STAGE_FINALIZE  One workgroup: grad_norm = sqrt(Σ partials), the clipping factor, the loss
//                 of this step, grad_unscale, and whether the step is skipped.
//                 Bindings: 0 state (rw), 1 partials (r), 2 loss [1] (r).
// STAGE_ADVANCE   One invocation, after the update: the dynamic loss scale (GradScaler's rule),
//                 the counters, the next step's learning rate, and this step's record.
//                 Bindings: 0 state (rw), 1 record (w).
// STAGE_CHECK_INPUTS  Before the forward pass: counts the inf and NaN values among the valid
//                 rows of one float input feed (FP32 words, or FP16 halves two to a word) into
//                 nonfinite_input_values with an integer atomicAdd; ADVANCE turns a non-zero
//                 count into one more nonfinite_inputs step.
//                 Bindings: 0 state (rw), 1 the feed's words (r). Dispatch: grid-stride.
// Overflow is flagged with an integer atomicOr, so results do not depend on timing.
#extension GL_GOOGLE_include_directive : require
#include "common/train_state.glsl"
#include "common/workgroup_reduce.glsl"

layout(std430, binding = 0) buffer State_block { TrainState state; };

#if defined(STAGE_CHECK_INPUTS)
layout(std430, binding = 1) readonly buffer Feed_block { uint feed_words[]; };
layout(push_constant) uniform Args {
  uint row_values;  // values per row
  uint halves;      // 1: FP16 values, two to a word
} args;

void main() {
  const uint n = state.valid_rows * args.row_values;
  uint found = 0u;
  for (uint i = gl_GlobalInvocationID.x; i < n; i += gl_NumWorkGroups.x * gl_WorkGroupSize.x) {
    if (args.halves != 0u)
      found += ((feed_words[i >> 1] >> (16u * (i & 1u))) & 0x7C00u) == 0x7C00u ? 1u : 0u;
    else
      found += (feed_words[i] & 0x7F800000u) == 0x7F800000u ? 1u : 0u;
  }
  if (found != 0u) atomicAdd(state.nonfinite_input_values, found);
}

#elif defined(STAGE_UNSCALE)
layout(std430, binding = 1) buffer Grads_block { float grads[]; };
layout(std430, binding = 2) writeonly buffer Partials_block { float partials[]; };
layout(push_constant) uniform Args {
  uint n;
  float inv_micro_batches;  // gradients of several micro-batches are averaged here
} args;
shared uint bad;

void main() {
  const uint lane = gl_LocalInvocationID.x;
  if (lane == 0u) bad = 0u;
  barrier();
  // Invocation 0 then reads its own write back in the loop below.
  if (gl_GlobalInvocationID.x == 0u && state.inject_nonfinite != 0u) grads[0] = uintBitsToFloat(0x7F800000u);
  const float inv_scale = args.inv_micro_batches / state.scale;
  const uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
  float s = 0.0;
  bool found = false;
  for (uint i = gl_GlobalInvocationID.x; i < args.n; i += stride) {
    const float g = grads[i] * inv_scale;
    found = found || not_finite(g);
    s += g * g;
  }
  if (found) atomicOr(bad, 1u);
  s = workgroup_sum(s);  // its barriers also make `bad` complete
  if (lane == 0u) {
    partials[gl_WorkGroupID.x] = s;
    if (bad != 0u) atomicOr(state.found_inf, 1u);
  }
}

#elif defined(STAGE_FINALIZE)
layout(std430, binding = 1) readonly buffer Partials_block { float partials[]; };
layout(std430, binding = 2) readonly buffer Loss_block { float loss_value[]; };
layout(push_constant) uniform Args {
  uint partial_count;
  float max_norm;  // 0: no clipping
  float inv_micro_batches;
} args;

void main() {
  const uint lane = gl_LocalInvocationID.x;
  float s = 0.0;
  for (uint i = lane; i < args.partial_count; i += gl_WorkGroupSize.x) s += partials[i];
  s = workgroup_sum(s);
  if (lane == 0u) {
    const float norm = sqrt(s);
    state.grad_norm = norm;
    // torch.nn.utils.clip_grad_norm_: coefficient max_norm / (norm + 1e-6), clamped to 1.
    state.clip_coef = args.max_norm > 0.0 ? min(1.0, args.max_norm / (norm + 1e-6)) : 1.0;
    state.loss = loss_value[0];
    state.grad_unscale = args.inv_micro_batches / state.scale;
    state.skip = (state.found_inf != 0u || not_finite(loss_value[0])) ? 1u : 0u;
  }
}

#elif defined(STAGE_ADVANCE)
layout(std430, binding = 1) writeonly buffer Record_block { StepRecord record; };

#define MODE_DYNAMIC 0u
#define MODE_STATIC 1u
#define MODE_OFF 2u
#define SCHEDULE_CONSTANT 0u
#define SCHEDULE_WARMUP 1u
#define SCHEDULE_COSINE 2u

// Mirrors vkgrad::train::AdvanceArgs.
layout(push_constant) uniform Args {
  uint mode;
  float growth_factor;
  float backoff_factor;
  uint growth_interval;
  uint schedule;
  float base_lr;
  float min_lr;
  uint warmup_steps;
  uint total_steps;
} args;

// The learning rate of step `it` (0-based). Warm-up is linear from base/warmup to base over
// the first warmup_steps; cosine then decays from base to min_lr by total_steps and stays.
float learning_rate(uint it) {
  if (args.schedule == SCHEDULE_CONSTANT) return args.base_lr;
  if (it < args.warmup_steps) return args.base_lr * float(it + 1u) / float(args.warmup_steps);
  if (args.schedule == SCHEDULE_WARMUP) return args.base_lr;
  const uint span = max(args.total_steps, args.warmup_steps + 1u) - args.warmup_steps;
  const float t = min(float(it - args.warmup_steps) / float(span), 1.0);
  return args.min_lr + (args.base_lr - args.min_lr) * 0.5 * (1.0 + cos(3.14159265358979 * t));
}

void main() {
  if (gl_GlobalInvocationID.x != 0u) return;
  const bool bad_loss = not_finite(state.loss);
  const bool overflow = state.found_inf != 0u && !bad_loss;
  record.iteration = state.iteration;
  record.loss = state.loss;
  record.scale = state.scale;
  record.skipped = state.skip;
  if (bad_loss) {
    // A forward overflow: a smaller scale cannot fix it, so the scale stays.
    state.nonfinite_losses += 1u;
    state.skipped_steps += 1u;
  } else if (overflow) {
    if (args.mode == MODE_DYNAMIC) state.scale *= args.backoff_factor;
    state.growth_tracker = 0u;
    state.skipped_steps += 1u;
  } else {
    state.optimizer_step += 1u;
    if (args.mode == MODE_DYNAMIC) {
      state.growth_tracker += 1u;
      if (state.growth_tracker == args.growth_interval) {
        state.scale *= args.growth_factor;
        state.growth_tracker = 0u;
      }
    }
  }
  if (state.nonfinite_input_values != 0u) state.nonfinite_inputs += 1u;
  state.nonfinite_input_values = 0u;
  state.iteration += 1u;
  state.lr = learning_rate(state.iteration);
  state.found_inf = 0u;
  record.optimizer_step = state.optimizer_step;
  record.skipped_steps = state.skipped_steps;
  record.nonfinite_losses = state.nonfinite_losses;
  record.grad_norm = state.grad_norm;
  record.nonfinite_inputs = state.nonfinite_inputs;
}
#else
#error "define STAGE_UNSCALE, STAGE_FINALIZE or STAGE_ADVANCE"
#endif
