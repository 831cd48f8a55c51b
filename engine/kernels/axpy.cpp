#include "vkgrad/kernels/axpy.hpp"

#include "vkgrad/error.hpp"
#include "vkgrad/vk/context.hpp"

#include <algorithm>
#include <string>

namespace vkgrad::kernels {
namespace {
constexpr uint32_t kWorkgroup = 256;    // shaders/axpy.comp local_size_x
constexpr uint32_t kMaxGroups = 4096;  // enough to fill any GPU; the shader grid-strides
}  // namespace

Axpy::Axpy(vk::Context& ctx, Storage storage)
    : storage_(storage),
      pipeline_(&ctx.pipelines().get({.shader = "axpy_" + std::string(storage_name(storage)),
                                      .bindings = 2,
                                      .push_constant_size = sizeof(AxpyArgs)})) {}

void Axpy::record(vk::Recorder& rec, const vk::BufferRange& x, const vk::BufferRange& y, uint32_t n, float a) const {
  const VkDeviceSize bytes = storage_bytes(storage_, n);
  if (x.size < bytes || y.size < bytes)
    throw Error("axpy over " + std::to_string(n) + " elements needs " + std::to_string(bytes) +
                    "-byte ranges, got x " + std::to_string(x.size) + " and y " + std::to_string(y.size),
                "size the buffers with storage_bytes()");
  if (n == 0) return;
  const AxpyArgs args{n, a};
  const vk::Binding bindings[] = {{x, vk::Access::Read}, {y, vk::Access::ReadWrite}};
  const uint32_t pairs = (n + 1) / 2;
  rec.dispatch({.pipeline = pipeline_,
                .bindings = bindings,
                .push_constants = &args,
                .groups = {std::min(kMaxGroups, (pairs + kWorkgroup - 1) / kWorkgroup), 1, 1},
                .label = "axpy"});
}

}  // namespace vkgrad::kernels
