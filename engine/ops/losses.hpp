// The graph's loss (mean over the batch, PyTorch's reduction='mean') recorded on kernels::Loss:
// per-row losses and their mean in forward, the loss-scaled gradient of the predictions in
// backward. The loss is not a node: it ends the forward walk and starts the backward one.
#pragma once

#include "ops/op.hpp"

namespace vkgrad::ops {

struct LossBuffers {
  kernels::TensorRef target;  // as fed: int32 labels or values
  vk::BufferRange params;     // kernels::LossParams {scale, valid_rows} in the step state
  vk::BufferRange row_loss;   // fp32 per row
  vk::BufferRange mean;       // fp32, the step's loss
};

void loss_forward(const graph::LossSpec& spec, Walk& walk, const LossBuffers& buffers);
// Writes the gradient of the predictions (its first contribution).
void loss_backward(const graph::LossSpec& spec, Walk& walk, const LossBuffers& buffers);

}  // namespace vkgrad::ops
