#include "vkgrad/kernels/encoding.hpp"

#include "vkgrad/error.hpp"
#include "vkgrad/vk/context.hpp"

#include <algorithm>
#include <string>

namespace vkgrad::kernels {

Encoding::Encoding(vk::Context& ctx) : pipelines_(ctx, "encoding", 3, sizeof(EncodingArgs)) {}

void Encoding::fourier(vk::Recorder& rec, const vk::BufferRange& x, const vk::BufferRange& b, const TensorRef& y,
                       uint32_t rows, uint32_t in_dims, uint32_t frequencies) const {
  const uint64_t out = uint64_t(rows) * 2 * frequencies;
  if (rows == 0 || in_dims == 0 || frequencies == 0)
    throw Error("Fourier features of an empty shape", "rows, input dimensions and frequencies must be at least 1");
  if (out >= 0xFFFFFFFFull) throw Error("Fourier features of 2^32 outputs or more", "split the batch");
  if (x.size < 4ull * rows * in_dims || b.size < 4ull * frequencies * in_dims ||
      y.range.size < tensor_bytes(y.type, out))
    throw Error("Fourier features: x needs " + std::to_string(4ull * rows * in_dims) + " bytes, B " +
                    std::to_string(4ull * frequencies * in_dims) + ", y " + std::to_string(tensor_bytes(y.type, out)) +
                    "; the ranges have " + std::to_string(x.size) + ", " + std::to_string(b.size) + " and " +
                    std::to_string(y.range.size),
                "bind the whole tensors (x and B in fp32)");
  const EncodingArgs args{rows, in_dims, frequencies};
  // fp16 outputs are written by read-modify-write at an odd end: read-write then.
  const vk::Binding bind[] = {{x, vk::Access::Read},
                              {b, vk::Access::Read},
                              {y.range, y.type == ElemType::F16 ? vk::Access::ReadWrite : vk::Access::Write}};
  const uint64_t pairs = (out + 1) / 2;
  rec.dispatch({.pipeline = &pipelines_.get({{18, uint32_t(y.type)}}),
                .bindings = bind,
                .push_constants = &args,
                .groups = {uint32_t(std::clamp<uint64_t>((pairs + 255) / 256, 1, 4096)), 1, 1},
                .label = "encoding.fourier"});
}

}  // namespace vkgrad::kernels
