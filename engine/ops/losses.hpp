// The graph's loss (mean over the batch, PyTorch's reduction='mean') recorded on kernels::Loss:
// per-row losses and their mean in forward, the loss-scaled gradient of the predictions in
// backward. The loss is not a node: it ends the forward walk and starts the backward one.
#pragma once

#include "ops/op.hpp"

namespace vkgrad::ops {

struct LossBuffers {
  kernels::TensorRef target;  // as fed: int32 labels or values
  vk::BufferRange params;     // kernels::LossParams {scale, valid_rows} in the step state
  vk::BufferRange row_loss;   // fp32 per loss row (loss_rows_per_sample of them per sample)
  vk::BufferRange mean;       // fp32, the step's loss
};

// Cross-entropy over [positions..., classes] predictions has a loss row per position (the mean
// is over every position); the other losses, and a class per sample, one row per sample.
uint32_t loss_rows_per_sample(const graph::LossSpec& spec, const graph::Graph& graph);

void loss_forward(const graph::LossSpec& spec, Walk& walk, const LossBuffers& buffers);
// Writes the gradient of the predictions (its first contribution).
void loss_backward(const graph::LossSpec& spec, Walk& walk, const LossBuffers& buffers);

}  // namespace vkgrad::ops
