// vkgrad::kernels::ChannelReduce — per-channel sums over NCHW tensors (shaders/channel_reduce.comp):
// a convolution's bias gradient. fp32 sums in a fixed order (deterministic, no atomics) over
// fp32 or fp16 inputs. One pipeline per input type and workgroup size, from the Context's
// registry on first use. Recording is const but fills that cache: one thread at a time.
#pragma once

#include "vkgrad/kernels/kernel_pipelines.hpp"
#include "vkgrad/kernels/tensor_ref.hpp"
#include "vkgrad/vk/recorder.hpp"

#include <cstdint>

namespace vkgrad::vk {
class Context;
}

namespace vkgrad::kernels {

// Mirrors the push constants of shaders/channel_reduce.comp.
struct ChannelReduceArgs {
  uint32_t samples, channels, pixels;
  uint32_t flags;  // bit 0: accumulate
};

class ChannelReduce {
public:
  explicit ChannelReduce(vk::Context& ctx);
  // sums[c] (+)= Σ_n Σ_p x[n][c][p] for x [samples, channels, pixels]; sums is fp32 [channels].
  void sum(vk::Recorder& rec, const TensorRef& x, const vk::BufferRange& sums, uint32_t samples, uint32_t channels,
           uint32_t pixels, bool accumulate) const;

private:
  vk::Context& ctx_;
  KernelPipelines pipelines_;
};

}  // namespace vkgrad::kernels
