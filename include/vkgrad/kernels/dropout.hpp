// vkgrad::kernels::Dropout — inverted dropout (shaders/dropout.comp) whose mask is a pure
// function of (seed, salt, the step's iteration and micro-batch in the TrainState, element): the
// backward recomputes it (Philox4x32-10) instead of storing it. Holds its pipelines (from the
// Context's registry on first use); recording is const but fills that cache: one thread at a time.
#pragma once

#include "vkgrad/kernels/kernel_pipelines.hpp"
#include "vkgrad/kernels/tensor_ref.hpp"
#include "vkgrad/vk/recorder.hpp"

#include <cstdint>

namespace vkgrad::vk {
class Context;
}

namespace vkgrad::kernels {

// Mirrors the push constants of shaders/dropout.comp.
struct DropoutArgs {
  uint32_t mode;
  uint32_t n;
  float p;
  uint32_t seed_lo, seed_hi, salt;
  uint32_t flags;
};

// Which mask: the generator's key and a per-layer salt; p in [0, 1).
struct DropoutMask {
  float p = 0.0f;
  uint64_t seed = 0;
  uint32_t salt = 0;
  vk::BufferRange state;  // the trainer's step state (shaders/common/train_state.glsl)
};

class Dropout {
public:
  explicit Dropout(vk::Context& ctx);
  // y = x·keep/(1 − p) over n elements.
  void forward(vk::Recorder& rec, const DropoutMask& mask, const TensorRef& x, const TensorRef& y, uint32_t n) const;
  // dx (+)= dy·keep/(1 − p), the forward's mask.
  void backward(vk::Recorder& rec, const DropoutMask& mask, const TensorRef& dy, const TensorRef& dx, uint32_t n,
                bool accumulate) const;

private:
  void dispatch(vk::Recorder& rec, uint32_t mode, const DropoutMask& mask, const TensorRef& in, const TensorRef& out,
                uint32_t n, bool accumulate) const;

  KernelPipelines pipelines_;
};

}  // namespace vkgrad::kernels
