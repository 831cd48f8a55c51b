// vkgrad::kernels::Optimizer — fused SGD / Adam / AdamW over flat FP32 masters, writing the
// FP16 working copy in the same pass (shaders/optimizer.comp). Reads the step's learning rate,
// clipping factor, step count and skip flag from the device state. Holds its pipeline only;
// recording is const. One thread at a time.
#pragma once

#include "vkgrad/vk/recorder.hpp"

#include <cstdint>
#include <optional>

namespace vkgrad::vk {
class Context;
}

namespace vkgrad::kernels {

enum class OptimizerKind : uint32_t { Sgd = 0, Adam = 1, AdamW = 2 };

// Mirrors shaders/optimizer.comp's push constants.
struct OptimizerArgs {
  OptimizerKind kind = OptimizerKind::AdamW;
  uint32_t n = 0;
  float beta1 = 0.9f;  // SGD: momentum
  float beta2 = 0.999f;
  float eps = 1e-8f;
  float weight_decay = 0.01f;
  float dampening = 0.0f;
  uint32_t nesterov = 0;
  uint32_t write_copy = 0;
  float lr_scale = 1.0f;  // this parameter group's rate relative to the scheduled one
};
static_assert(sizeof(OptimizerArgs) <= 128);

class Optimizer {
public:
  explicit Optimizer(vk::Context& ctx);
  // `exp_avg`/`exp_avg_sq` hold n floats each where the optimizer keeps state (SGD with
  // momentum uses exp_avg only); `copy` (n fp16) receives the working copy when given.
  void record(vk::Recorder& rec, const OptimizerArgs& args, const vk::BufferRange& state,
              const vk::BufferRange& params, const vk::BufferRange& grads, const vk::BufferRange& exp_avg,
              const vk::BufferRange& exp_avg_sq, std::optional<vk::BufferRange> copy) const;

private:
  const vk::Pipeline* pipeline_;
};

}  // namespace vkgrad::kernels
