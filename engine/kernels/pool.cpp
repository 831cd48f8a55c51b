#include "vkgrad/kernels/pool.hpp"

#include "vkgrad/error.hpp"
#include "vkgrad/vk/context.hpp"

#include <algorithm>
#include <string>

namespace vkgrad::kernels {
namespace {

constexpr uint32_t kWorkgroup = 256, kMaxGroups = 4096;
constexpr uint32_t kModeMax = 0, kModeMaxBackward = 1, kModeAverage = 2, kModeAverageBackward = 3;
constexpr uint32_t kAccumulate = 1;

void check_geometry(const PoolGeometry& g) {
  for (uint32_t v : {g.planes, g.in_h, g.in_w})
    if (v == 0) throw Error("pooling over an empty tensor", "every dimension must be at least 1");
  if (g.adaptive) {
    if (g.kind == PoolKind::Max) throw Error("adaptive max pooling is not available", "use adaptive average pooling");
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
  if (g.kind == PoolKind::Max && uint64_t(g.kernel_h) * g.kernel_w > Pool::kMaxTaps)
    throw Error("max pooling windows of " + std::to_string(uint64_t(g.kernel_h) * g.kernel_w) + " taps; at most " +
                    std::to_string(Pool::kMaxTaps),
                "use a smaller window, or average pooling");
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

void Pool::forward(vk::Recorder& rec, const PoolGeometry& g, const TensorRef& x, const TensorRef& y,
                   const std::optional<TensorRef>& taps) const {
  check_geometry(g);
  const uint64_t in = uint64_t(g.planes) * g.in_h * g.in_w, out = uint64_t(g.planes) * g.out_h() * g.out_w();
  check_size("input", x, in);
  check_size("output", y, out);
  if (g.kind == PoolKind::Average) return dispatch(rec, kModeAverage, g, x, x, y, y, false, out);
  if (!taps || taps->type != y.type)
    throw Error("max pooling needs a taps tensor of the output's type", "pass one shaped like the output");
  check_size("taps", *taps, out);
  dispatch(rec, kModeMax, g, x, x, y, *taps, false, out);
}

void Pool::backward(vk::Recorder& rec, const PoolGeometry& g, const std::optional<TensorRef>& taps,
                    const TensorRef& dy, const TensorRef& dx, bool accumulate) const {
  check_geometry(g);
  const uint64_t in = uint64_t(g.planes) * g.in_h * g.in_w, out = uint64_t(g.planes) * g.out_h() * g.out_w();
  check_size("output gradient", dy, out);
  check_size("input gradient", dx, in);
  if (g.kind == PoolKind::Average) return dispatch(rec, kModeAverageBackward, g, dy, dy, dx, dx, accumulate, in);
  if (!taps) throw Error("max pooling's backward needs the forward's taps", "pass the taps tensor forward wrote");
  check_size("taps", *taps, out);
  dispatch(rec, kModeMaxBackward, g, *taps, dy, dx, dx, accumulate, in);
}

// Binding 3 is the taps output of max pooling's forward; other modes bind their output there.
void Pool::dispatch(vk::Recorder& rec, uint32_t mode, const PoolGeometry& g, const TensorRef& in0,
                    const TensorRef& in1, const TensorRef& out, const TensorRef& taps_out, bool accumulate,
                    uint64_t out_elements) const {
  const bool writes_taps = mode == kModeMax;
  const auto& o = out.range;
  const auto& taps = taps_out.range;
  if (o.overlaps(in0.range) || o.overlaps(in1.range) || (writes_taps && (taps.overlaps(in0.range) || taps.overlaps(o))))
    throw Error("pooling outputs overlap an input or each other", "write the results to ranges of their own");
  const vk::Pipeline& pipeline = ctx_.pipelines().get(
      {.shader = "pool",
       .bindings = 4,
       .push_constant_size = sizeof(PoolArgs),
       .spec = {{16, uint32_t(in0.type)}, {17, uint32_t(in1.type)}, {18, uint32_t(out.type)}, {20, g.in_h},
                {21, g.in_w}, {22, g.out_h()}, {23, g.out_w()}, {24, g.adaptive ? 1 : g.kernel_h},
                {25, g.adaptive ? 1 : g.kernel_w}, {26, g.adaptive ? 1 : g.stride_h}, {27, g.adaptive ? 1 : g.stride_w},
                {28, g.adaptive ? 0 : g.pad_h}, {29, g.adaptive ? 0 : g.pad_w}, {30, g.adaptive ? 1u : 0u}}});
  const PoolArgs args{mode, g.planes, accumulate ? kAccumulate : 0u};
  // fp16 outputs are written by read-modify-write at an odd end; declare read-write then.
  const bool reads_out = accumulate || out.type == ElemType::F16;
  const vk::Binding b[] = {{in0.range, vk::Access::Read},
                           {in1.range, vk::Access::Read},
                           {out.range, reads_out ? vk::Access::ReadWrite : vk::Access::Write},
                           {taps_out.range, writes_taps ? vk::Access::ReadWrite : vk::Access::Read}};
  const uint64_t pairs = (out_elements + 1) / 2;
  const uint32_t groups = uint32_t(std::clamp<uint64_t>((pairs + kWorkgroup - 1) / kWorkgroup, 1, kMaxGroups));
  rec.dispatch({.pipeline = &pipeline,
                .bindings = b,
                .push_constants = &args,
                .groups = {groups, 1, 1},
                .label = mode <= kModeMaxBackward ? "pool.max" : "pool.average"});
}

}  // namespace vkgrad::kernels
