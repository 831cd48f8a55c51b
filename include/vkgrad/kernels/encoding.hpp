// vkgrad::kernels::Encoding — input encodings for coordinate networks (shaders/encoding.comp):
// Gaussian Fourier features [sin(2πBx), cos(2πBx)] with the argument kept in fp32. Holds its
// pipelines (one per output type, from the Context's registry on first use); recording is const
// but fills that cache: one thread at a time.
#pragma once

#include "vkgrad/kernels/kernel_pipelines.hpp"
#include "vkgrad/kernels/tensor_ref.hpp"
#include "vkgrad/vk/recorder.hpp"

#include <cstdint>

namespace vkgrad::vk {
class Context;
}

namespace vkgrad::kernels {

// Mirrors the push constants of shaders/encoding.comp.
struct EncodingArgs {
  uint32_t rows, in_dims, frequencies;
};

class Encoding {
public:
  explicit Encoding(vk::Context& ctx);
  // y [rows, 2F] = [sin(2π·x·Bᵀ), cos(2π·x·Bᵀ)] for fp32 x [rows, in_dims] and B [F, in_dims].
  void fourier(vk::Recorder& rec, const vk::BufferRange& x, const vk::BufferRange& b, const TensorRef& y,
               uint32_t rows, uint32_t in_dims, uint32_t frequencies) const;

private:
  KernelPipelines pipelines_;
};

}  // namespace vkgrad::kernels
