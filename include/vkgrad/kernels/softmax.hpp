// vkgrad::kernels::Softmax — row-wise softmax and its gradient (shaders/softmax.comp), fp32
// math over fp32 or fp16 tensors.
//
// One workgroup per row whatever its length (cols = 50000 is fine), with fixed-order
// shared-memory reductions, so results are deterministic. Any element types, any cols: with
// odd cols an fp16 word straddles two rows and each row writes its own half atomically. The
// output may not overlap an input. Element types are specialization constants (one pipeline
// per combination used, from the Context's registry on first use: kernels/kernel_pipelines.hpp);
// mode, shape and flags are push constants. Recording is const but fills that
// pipeline cache: one thread at a time.
#pragma once

#include "vkgrad/kernels/kernel_pipelines.hpp"
#include "vkgrad/kernels/tensor_ref.hpp"
#include "vkgrad/vk/recorder.hpp"

#include <cstdint>

namespace vkgrad::vk {
class Context;
}

namespace vkgrad::kernels {

// Mirrors the push constants of shaders/softmax.comp.
struct SoftmaxArgs {
  uint32_t mode;  // 0 forward, 1 backward
  uint32_t rows, cols;
  uint32_t flags;  // bit 0: accumulate, bit 1: causal
};
static_assert(sizeof(SoftmaxArgs) <= 128);

class Softmax {
public:
  explicit Softmax(vk::Context& ctx);
  // Row-wise softmax of x [rows, cols] into y [rows, cols], fp32 math, max-subtracted (no
  // overflow for any finite logits). cols ≥ 1. `causal`: row r covers columns j ≤ r mod cols
  // (square blocks of attention scores) and the rest of it is 0.
  void forward(vk::Recorder& rec, const TensorRef& x, const TensorRef& y, uint32_t rows, uint32_t cols,
               bool causal = false) const;
  // dx = y ⊙ (dy − Σ_j dy_j·y_j) per row, from the forward's output y; with accumulate, dx += that.
  void backward(vk::Recorder& rec, const TensorRef& y, const TensorRef& dy, const TensorRef& dx, uint32_t rows,
                uint32_t cols, bool accumulate) const;

private:
  void dispatch(vk::Recorder& rec, const SoftmaxArgs& args, const TensorRef& in0, const TensorRef& in1,
                const TensorRef& out, bool reads_out, const char* label) const;

  vk::Context& ctx_;
  KernelPipelines pipelines_;
};

}  // namespace vkgrad::kernels
