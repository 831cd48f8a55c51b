// max_pool2d, avg_pool2d and adaptive average pooling on kernels::Pool. Max pooling has a
// second output, each window's argmax tap, which its backward reads (as PyTorch's indices);
// averages save nothing.
#include "ops/op.hpp"

#include "vkgrad/error.hpp"
#include "vkgrad/graph/graph.hpp"

namespace vkgrad::ops {
namespace {

using graph::attr::Pool2d;

const Pool2d& attr_of(const graph::Node& n) { return std::get<Pool2d>(n.attr); }

kernels::PoolGeometry geometry(const Pool2d& a, const std::vector<uint32_t>& x, uint32_t samples) {
  kernels::PoolGeometry g;
  g.kind = a.kind == graph::PoolKind::Max ? kernels::PoolKind::Max : kernels::PoolKind::Average;
  g.planes = samples * x[0], g.in_h = x[1], g.in_w = x[2];
  g.kernel_h = a.kernel_h, g.kernel_w = a.kernel_w, g.stride_h = a.stride_h, g.stride_w = a.stride_w;
  g.pad_h = a.pad_h, g.pad_w = a.pad_w;
  g.adaptive = a.adaptive, g.adaptive_h = a.out_h, g.adaptive_w = a.out_w;
  return g;
}

std::vector<std::vector<uint32_t>> infer(const graph::Node& n, std::span<const graph::TensorInfo* const> in) {
  const Pool2d& a = attr_of(n);
  const graph::TensorInfo& x = *in[0];
  require_per_sample(n, x, "the input");
  if (x.dims.size() != 3)
    throw Error(n.label + ": input " + shape_string(x) + " is not [batch, channels, height, width]",
                "reshape the input to channels × height × width");
  if (a.adaptive) {
    if (a.kind != graph::PoolKind::Average) throw Error(n.label + ": adaptive pooling averages", "");
    if (a.out_h == 0 || a.out_w == 0) throw Error(n.label + ": adaptive pooling to an empty output", "ask for 1×1 or more");
  } else {
    if (a.kernel_h == 0 || a.kernel_w == 0 || a.stride_h == 0 || a.stride_w == 0)
      throw Error(n.label + ": kernel and stride must be at least 1", "");
    if (2 * a.pad_h > a.kernel_h || 2 * a.pad_w > a.kernel_w)
      throw Error(n.label + ": padding must be at most half the kernel", "as in PyTorch");
    if (a.kind == graph::PoolKind::Max && uint64_t(a.kernel_h) * a.kernel_w > kernels::Pool::kMaxTaps)
      throw Error(n.label + ": windows of more than " + std::to_string(kernels::Pool::kMaxTaps) + " taps",
                  "use a smaller window, or average pooling");
    if (x.dims[1] + 2 * a.pad_h < a.kernel_h || x.dims[2] + 2 * a.pad_w < a.kernel_w)
      throw Error(n.label + ": the kernel is larger than the padded input " + shape_string(x), "use a smaller kernel");
  }
  const auto g = geometry(a, x.dims, 1);
  const std::vector<uint32_t> y{x.dims[0], g.out_h(), g.out_w()};
  if (a.kind == graph::PoolKind::Max) return {y, y};  // the pooled values, and their taps
  return {y};
}

bool is_max(const graph::Node& n) { return attr_of(n).kind == graph::PoolKind::Max; }

std::vector<uint32_t> saved(const graph::Node& n) {
  if (is_max(n)) return {n.outputs[1]};
  return {};
}

void forward(const graph::Node& n, uint32_t, Walk& w) {
  std::optional<kernels::TensorRef> taps;
  if (is_max(n)) taps = w.store.value(n.outputs[1]);
  w.kernels.pool.forward(w.rec, geometry(attr_of(n), w.dims(n.inputs[0]), w.rows), w.store.value(n.inputs[0]),
                         w.store.value(n.output()), taps);
}

void backward(const graph::Node& n, uint32_t, Walk& w) {
  const uint32_t x = n.inputs[0];
  if (!w.store.requires_grad(x)) return;
  const auto [dx, accumulate] = w.grad_out(x);
  std::optional<kernels::TensorRef> taps;
  if (is_max(n)) taps = w.store.value(n.outputs[1]);
  w.kernels.pool.backward(w.rec, geometry(attr_of(n), w.dims(x), w.rows), taps, w.store.grad(n.output()), dx,
                          accumulate);
}

const OpUnit kUnit{"pool2d", infer, saved, no_workspace, forward, backward};

}  // namespace

const OpUnit& unit_for(const graph::attr::Pool2d&) { return kUnit; }

}  // namespace vkgrad::ops
