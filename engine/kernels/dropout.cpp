#include "vkgrad/kernels/dropout.hpp"

#include "vkgrad/error.hpp"
#include "vkgrad/vk/context.hpp"

#include <algorithm>
#include <string>

namespace vkgrad::kernels {

Dropout::Dropout(vk::Context& ctx) : pipelines_(ctx, "dropout", 3, sizeof(DropoutArgs)) {}

void Dropout::dispatch(vk::Recorder& rec, uint32_t mode, const DropoutMask& mask, const TensorRef& in,
                       const TensorRef& out, uint32_t n, bool accumulate) const {
  if (!(mask.p >= 0.0f && mask.p < 1.0f))
    throw Error("dropout with p = " + std::to_string(mask.p), "use a probability in [0, 1)");
  if (n >= 0xFFFFFFFFu) throw Error("dropout over " + std::to_string(n) + " elements", "split the tensor");
  require_elements("dropout", "input", in, n);
  require_elements("dropout", "output", out, n);
  if (out.range.overlaps(in.range) && (out.range.offset != in.range.offset || out.type != in.type))
    throw Error("dropout: the output overlaps the input without being it", "write to a separate range or in place");
  if (n == 0) return;
  const DropoutArgs args{mode,      n, mask.p, uint32_t(mask.seed), uint32_t(mask.seed >> 32), mask.salt,
                         accumulate ? 1u : 0u};
  const vk::Binding b[] = {{in.range, vk::Access::Read}, {mask.state, vk::Access::Read}, {out.range, vk::Access::ReadWrite}};
  const uint32_t groups = uint32_t(std::clamp<uint64_t>((uint64_t(n) / 2 + 255) / 256, 1, 4096));
  rec.dispatch({.pipeline = &pipelines_.get({{16, uint32_t(in.type)}, {18, uint32_t(out.type)}}), .bindings = b, .push_constants = &args, .groups = {groups, 1, 1},
                .label = mode == 0 ? "dropout.fwd" : "dropout.bwd"});
}

void Dropout::forward(vk::Recorder& rec, const DropoutMask& mask, const TensorRef& x, const TensorRef& y,
                      uint32_t n) const {
  dispatch(rec, 0, mask, x, y, n, false);
}

void Dropout::backward(vk::Recorder& rec, const DropoutMask& mask, const TensorRef& dy, const TensorRef& dx, uint32_t n,
                       bool accumulate) const {
  dispatch(rec, 1, mask, dy, dx, n, accumulate);
}

}  // namespace vkgrad::kernels
