#include "vkgrad/kernels/pool.hpp"

#include "vkgrad/error.hpp"
#include "vkgrad/vk/context.hpp"

#include <algorithm>
#include <string>

namespace vkgrad::kernels {
namespace {

constexpr uint32_t kWorkgroup = 256, kMaxGroups = 4096;
constexpr uint32_t kModeMax = 0, kModeMaxBackward = 1, kModeAverage = 2, kModeAverageBackward = 3;
constexpr uint32_t kAccumulate = 1, kAdaptive = 2;

void check_geometry(const PoolGeometry& g) {
  for (uint32_t v : {g.planes, g.in_h, g.in_w})
    if (v == 0) throw Error("pooling over an empty tensor", "every dimension must be at least 1");
  if (g.adaptive) {
    if (g.adaptive_h == 0 || g.adaptive_w == 0)
      throw Error("adaptive pooling to an empty output", "ask for at least 1×1");
    return;
  }
  if (g.kernel_h == 0 || g.kernel_w == 0 || g.stride_h == 0 || g.stride_w == 0)
    throw Error("pooling with a zero kernel or stride", "kernel and stride must be at least 1");
  if (2 * g.pad_h > g.kernel_h || 2 * g.pad_w > g.kernel_w)
    throw Error("pooling padding " + std::to_string(g.pad_h) + "×" + std::to_string(g.pad_w) +
                    " is more than half the kernel " + std::to_string(g.kernel_h) + "×" + std::to_string(g.kernel_w),
                "use padding ≤ kernel / 2, as PyTorch requires");
  if (g.in_h + 2 * g.pad_h < g.kernel_h || g.in_w + 2 * g.pad_w < g.kernel_w)
    throw Error("pooling kernel " + std::to_string(g.kernel_h) + "×" + std::to_string(g.kernel_w) +
                    " is larger than the padded input",
                "use a smaller kernel or pad the input");
}

void check_size(const char* what, const TensorRef& t, uint64_t elements) {
  if (elements > 0xFFFFFFFEull) throw Error(std::string("pooling ") + what + " over 2^32 elements", "split the batch");
  if (t.range.size < tensor_bytes(t.type, elements))
    throw Error(std::string("pooling ") + what + " needs " + std::to_string(tensor_bytes(t.type, elements)) +
                    " bytes, its range has " + std::to_string(t.range.size),
                "bind the whole NCHW tensor");
}

}  // namespace

uint32_t PoolGeometry::out_h() const { return adaptive ? adaptive_h : (in_h + 2 * pad_h - kernel_h) / stride_h + 1; }
uint32_t PoolGeometry::out_w() const { return adaptive ? adaptive_w : (in_w + 2 * pad_w - kernel_w) / stride_w + 1; }

Pool::Pool(vk::Context& ctx) : ctx_(ctx) {}

void Pool::forward(vk::Recorder& rec, const PoolGeometry& g, const TensorRef& x, const TensorRef& y) const {
  check_geometry(g);
  const uint64_t in = uint64_t(g.planes) * g.in_h * g.in_w, out = uint64_t(g.planes) * g.out_h() * g.out_w();
  check_size("input", x, in);
  check_size("output", y, out);
  dispatch(rec, g.kind == PoolKind::Max ? kModeMax : kModeAverage, g, x, x, y, false, out);
}

void Pool::backward(vk::Recorder& rec, const PoolGeometry& g, const TensorRef& x, const TensorRef& dy,
                    const TensorRef& dx, bool accumulate) const {
  check_geometry(g);
  const uint64_t in = uint64_t(g.planes) * g.in_h * g.in_w, out = uint64_t(g.planes) * g.out_h() * g.out_w();
  if (g.kind == PoolKind::Max) check_size("input", x, in);
  check_size("output gradient", dy, out);
  check_size("input gradient", dx, in);
  const TensorRef& saved = g.kind == PoolKind::Max ? x : dy;  // average pooling reads no input
  dispatch(rec, g.kind == PoolKind::Max ? kModeMaxBackward : kModeAverageBackward, g, saved, dy, dx, accumulate, in);
}

void Pool::dispatch(vk::Recorder& rec, uint32_t mode, const PoolGeometry& g, const TensorRef& in0,
                    const TensorRef& in1, const TensorRef& out, bool accumulate, uint64_t out_elements) const {
  const auto overlaps = [&](const TensorRef& a) {
    return a.range.buffer == out.range.buffer && a.range.offset < out.range.offset + out.range.size &&
           out.range.offset < a.range.offset + a.range.size;
  };
  if (overlaps(in0) || overlaps(in1))
    throw Error("pooling output overlaps an input", "write the result to a range of its own");
  const uint32_t key = uint32_t(in0.type) | uint32_t(in1.type) << 1 | uint32_t(out.type) << 2;
  if (!pipelines_[key])
    pipelines_[key] = &ctx_.pipelines().get(
        {.shader = "pool",
         .bindings = 3,
         .push_constant_size = sizeof(PoolArgs),
         .spec = {{16, uint32_t(in0.type)}, {17, uint32_t(in1.type)}, {18, uint32_t(out.type)}}});
  const PoolArgs args{mode,       g.planes,   g.in_h,     g.in_w,  g.out_h(), g.out_w(),
                      g.kernel_h, g.kernel_w, g.stride_h, g.stride_w, g.pad_h, g.pad_w,
                      (accumulate ? kAccumulate : 0u) | (g.adaptive ? kAdaptive : 0u)};
  // fp16 outputs are written by read-modify-write at an odd end; declare read-write then.
  const bool reads_out = accumulate || out.type == ElemType::F16;
  const vk::Binding b[] = {{in0.range, vk::Access::Read},
                           {in1.range, vk::Access::Read},
                           {out.range, reads_out ? vk::Access::ReadWrite : vk::Access::Write}};
  const uint64_t pairs = (out_elements + 1) / 2;
  const uint32_t groups = uint32_t(std::clamp<uint64_t>((pairs + kWorkgroup - 1) / kWorkgroup, 1, kMaxGroups));
  rec.dispatch({.pipeline = pipelines_[key],
                .bindings = b,
                .push_constants = &args,
                .groups = {groups, 1, 1},
                .label = mode <= kModeMaxBackward ? "pool.max" : "pool.average"});
}

}  // namespace vkgrad::kernels
