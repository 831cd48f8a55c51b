// vkgrad::kernels::Pool — 2-D max and average pooling over NCHW tensors and their gradients
// (shaders/pool.comp), PyTorch's windows: kernel, stride and padding (average counting the
// padding, as count_include_pad), or adaptive windows for a given output size (global average
// pooling is adaptive to 1×1). fp32 math over fp32 or fp16 tensors. Gradients gather, so they
// are deterministic, and the max gradient goes to the first maximum of each window (PyTorch's
// tie rule), recomputed from the saved input.
//
// One pipeline per combination of element types, from the Context's registry on first use.
// Recording is const but fills that cache: one thread at a time.
#pragma once

#include "vkgrad/kernels/tensor_ref.hpp"
#include "vkgrad/vk/recorder.hpp"

#include <array>
#include <cstdint>

namespace vkgrad::vk {
class Context;
}

namespace vkgrad::kernels {

enum class PoolKind : uint32_t { Max = 0, Average = 1 };

struct PoolGeometry {
  PoolKind kind = PoolKind::Max;
  uint32_t planes = 1;  // samples × channels
  uint32_t in_h = 1, in_w = 1;
  uint32_t kernel_h = 1, kernel_w = 1;
  uint32_t stride_h = 1, stride_w = 1;
  uint32_t pad_h = 0, pad_w = 0;
  bool adaptive = false;  // windows from out_h × out_w instead of kernel, stride and padding
  uint32_t adaptive_h = 1, adaptive_w = 1;
  uint32_t out_h() const;  // adaptive_h, or (in + 2·pad − kernel) / stride + 1
  uint32_t out_w() const;
};

// Mirrors the push constants of shaders/pool.comp.
struct PoolArgs {
  uint32_t mode, planes, h, w, oh, ow, kh, kw, sh, sw, ph, pw, flags;
};

class Pool {
public:
  explicit Pool(vk::Context& ctx);
  // y [planes, out_h, out_w] from x [planes, in_h, in_w].
  void forward(vk::Recorder& rec, const PoolGeometry& g, const TensorRef& x, const TensorRef& y) const;
  // dx (+)= the gradient through the pooling; x is the forward's input (read by max only).
  void backward(vk::Recorder& rec, const PoolGeometry& g, const TensorRef& x, const TensorRef& dy, const TensorRef& dx,
                bool accumulate) const;

private:
  void dispatch(vk::Recorder& rec, uint32_t mode, const PoolGeometry& g, const TensorRef& in0, const TensorRef& in1,
                const TensorRef& out, bool accumulate, uint64_t out_elements) const;

  vk::Context& ctx_;
  mutable std::array<const vk::Pipeline*, 8> pipelines_{};  // by element types
};

}  // namespace vkgrad::kernels
