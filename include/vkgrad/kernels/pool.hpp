// vkgrad::kernels::Pool — 2-D max and average pooling over NCHW tensors and their gradients
// (shaders/pool.comp), PyTorch's windows: kernel, stride and padding (average counting the
// padding, as count_include_pad), or adaptive windows for a given output size (global average
// pooling is adaptive to 1×1). fp32 math over fp32 or fp16 tensors. Gradients gather, so they
// are deterministic, and the max gradient goes to the first maximum of each window (PyTorch's
// tie rule), whose tap the forward saves (as a small integer in the output's type).
//
// One pipeline per geometry and combination of element types, from the Context's registry on
// first use (then a lookup). One thread at a time.
#pragma once

#include "vkgrad/kernels/tensor_ref.hpp"
#include "vkgrad/vk/recorder.hpp"

#include <cstdint>
#include <optional>

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

// Mirrors the push constants of shaders/pool.comp (the geometry is specialization constants).
struct PoolArgs {
  uint32_t mode, planes, flags;
};

class Pool {
public:
  explicit Pool(vk::Context& ctx);
  // y [planes, out_h, out_w] from x [planes, in_h, in_w]; max pooling also writes each
  // output's argmax tap to `taps` (y's shape and type; windows of at most 2048 taps).
  void forward(vk::Recorder& rec, const PoolGeometry& g, const TensorRef& x, const TensorRef& y,
               const std::optional<TensorRef>& taps = std::nullopt) const;
  // dx (+)= the gradient through the pooling; max pooling reads the forward's taps.
  void backward(vk::Recorder& rec, const PoolGeometry& g, const std::optional<TensorRef>& taps, const TensorRef& dy,
                const TensorRef& dx, bool accumulate) const;
  static constexpr uint32_t kMaxTaps = 2048;  // fp16 counts exactly up to here

private:
  void dispatch(vk::Recorder& rec, uint32_t mode, const PoolGeometry& g, const TensorRef& in0, const TensorRef& in1,
                const TensorRef& out, const TensorRef& taps_out, bool accumulate, uint64_t out_elements) const;

  vk::Context& ctx_;

};

}  // namespace vkgrad::kernels
