// vkgrad::kernels::BatchNorm — 2-D batch normalization over NCHW tensors (shaders/batch_norm.comp):
// training forward (batch statistics in fp32, running statistics updated on the device with
// PyTorch's momentum and unbiased variance), evaluation forward (running statistics) and the
// backward (input, γ and β gradients). Statistics cover the batch's valid rows only, read from
// the step's LossParams, so a partial batch normalizes by its real samples. Deterministic
// (fixed-order sums, no float atomics). One pipeline per element-type pair and workgroup size,
// from the Context's registry on first use; recording is const but fills that cache: one
// thread at a time.
#pragma once

#include "vkgrad/kernels/tensor_ref.hpp"
#include "vkgrad/vk/recorder.hpp"

#include <cstdint>
#include <optional>

namespace vkgrad::vk {
class Context;
}

namespace vkgrad::kernels {

// Mirrors the push constants of shaders/batch_norm.comp.
struct BatchNormArgs {
  uint32_t mode;
  uint32_t samples, channels, pixels;
  float eps, momentum;
  uint32_t flags;
};

// The tensors of one batch-norm layer: affine parameters (γ, β in one type), fp32 running
// statistics and batch count, and the step's LossParams.
struct BatchNormTensors {
  TensorRef gamma, beta;
  vk::BufferRange running_mean, running_var, batches;  // fp32: [channels], [channels], [1]
  vk::BufferRange params;                             // LossParams {scale, valid_rows}
};

struct BatchNormShape {
  uint32_t samples = 1, channels = 1, pixels = 1;
  float eps = 1e-5f, momentum = 0.1f;
};

class BatchNorm {
public:
  explicit BatchNorm(vk::Context& ctx);
  // y = normalized x; training: batch statistics, running statistics updated.
  void forward(vk::Recorder& rec, const BatchNormShape& s, const BatchNormTensors& t, const TensorRef& x,
               const TensorRef& y, bool training) const;
  // dx (+)= ∂L/∂x through the training forward (none when dx is empty: the input needs no
  // gradient); dgamma, dbeta (fp32 [channels]) += theirs.
  void backward(vk::Recorder& rec, const BatchNormShape& s, const BatchNormTensors& t, const TensorRef& x,
                const TensorRef& dy, const std::optional<TensorRef>& dx, const vk::BufferRange& dgamma,
                const vk::BufferRange& dbeta, bool accumulate) const;

private:
  void dispatch(vk::Recorder& rec, uint32_t mode, const BatchNormShape& s, const BatchNormTensors& t,
                const TensorRef& x, const TensorRef& dy, const TensorRef& out, const vk::BufferRange& dgamma,
                const vk::BufferRange& dbeta, uint32_t flags) const;

  vk::Context& ctx_;
};

}  // namespace vkgrad::kernels
