// nn.Conv2d: implicit GEMMs on the GEMM loaders (kernels/conv.hpp) — forward with bias and
// ReLU in the epilogue, data and weight gradients — and the bias gradient as a channel sum.
#include "ops/op.hpp"

#include "vkgrad/error.hpp"
#include "vkgrad/graph/graph.hpp"
#include "vkgrad/kernels/conv.hpp"

namespace vkgrad::ops {
namespace {

using graph::attr::Conv2d;

const Conv2d& attr_of(const graph::Node& n) { return std::get<Conv2d>(n.attr); }
bool fused_relu(const graph::Node& n) { return attr_of(n).activation == graph::Activation::Relu; }

// The geometry from the input's per-sample dims [in, h, w] and the weight [out, in/g, kh, kw].
kernels::ConvGeometry geometry(const Conv2d& a, const std::vector<uint32_t>& x, const std::vector<uint32_t>& w) {
  kernels::ConvGeometry g;
  g.groups = a.groups;
  g.in_channels = x[0] / a.groups, g.out_channels = w[0] / a.groups;
  g.in_h = x[1], g.in_w = x[2], g.kernel_h = w[2], g.kernel_w = w[3];
  g.stride_h = a.stride_h, g.stride_w = a.stride_w, g.pad_h = a.pad_h, g.pad_w = a.pad_w;
  g.dilation_h = a.dilation_h, g.dilation_w = a.dilation_w;
  return g;
}

kernels::ConvGeometry geometry(const graph::Node& n, const Walk& w) {
  return geometry(attr_of(n), w.dims(n.inputs[0]), w.dims(n.inputs[1]));
}

std::vector<std::vector<uint32_t>> infer(const graph::Node& n, std::span<const graph::TensorInfo* const> in) {
  const Conv2d& a = attr_of(n);
  const graph::TensorInfo& x = *in[0];
  const graph::TensorInfo& w = *in[1];
  require_per_sample(n, x, "the input");
  if (a.activation != graph::Activation::None && a.activation != graph::Activation::Relu)
    throw Error(n.label + ": only ReLU fuses into a convolution", "apply other activations as their own op");
  if (x.dims.size() != 3)
    throw Error(n.label + ": input " + shape_string(x) + " is not [batch, channels, height, width]",
                "reshape the input to channels × height × width");
  if (w.role != graph::TensorRole::Parameter || w.dims.size() != 4)
    throw Error(n.label + ": the weight must be a [out, in / groups, kh, kw] parameter, got " + shape_string(w),
                "create it with parameter()");
  if (a.groups == 0 || x.dims[0] % a.groups || w.dims[0] % a.groups || w.dims[1] * a.groups != x.dims[0])
    throw Error(n.label + ": input " + shape_string(x) + ", weight " + shape_string(w) + " and " +
                    std::to_string(a.groups) + " groups do not fit",
                "in and out channels must divide by groups, and the weight's second dimension is in / groups");
  for (uint32_t v : {a.stride_h, a.stride_w, a.dilation_h, a.dilation_w})
    if (v == 0) throw Error(n.label + ": stride and dilation must be at least 1", "");
  const auto span = [](uint32_t size, uint32_t pad, uint32_t k, uint32_t d) {
    return uint64_t(size) + 2 * pad >= uint64_t(d) * (k - 1) + 1;
  };
  if (!span(x.dims[1], a.pad_h, w.dims[2], a.dilation_h) || !span(x.dims[2], a.pad_w, w.dims[3], a.dilation_w))
    throw Error(n.label + ": the kernel " + shape_string(w) + " does not fit the padded input " + shape_string(x),
                "pad the input or use a smaller kernel");
  if (in.size() > 2) {
    const graph::TensorInfo& b = *in[2];
    if (b.role != graph::TensorRole::Parameter || b.dims.size() != 1 || b.dims[0] != w.dims[0])
      throw Error(n.label + ": bias " + shape_string(b) + " does not match weight " + shape_string(w),
                  "the bias must be a parameter of shape [out_channels]");
  }
  const auto g = geometry(a, x.dims, w.dims);
  return {{w.dims[0], g.out_h(), g.out_w()}};
}

std::vector<uint32_t> saved(const graph::Node& n) { return layer_saved(n, fused_relu(n)); }

uint64_t workspace(const graph::Node& n, const graph::Graph& g) { return layer_workspace(n, g, fused_relu(n)); }

void forward(const graph::Node& n, uint32_t, Walk& w) {
  std::optional<kernels::TensorRef> bias;
  if (n.inputs.size() > 2) bias = w.store.value(n.inputs[2]);
  w.kernels.gemm.record(w.rec, kernels::conv_forward(geometry(n, w), w.rows, w.store.value(n.inputs[0]),
                                                      w.store.value(n.inputs[1]), w.store.value(n.output()), bias,
                                                      fused_relu(n) ? kernels::Activation::Relu
                                                                    : kernels::Activation::None));
}

void backward(const graph::Node& n, uint32_t index, Walk& w) {
  const auto g = geometry(n, w);
  const uint32_t x = n.inputs[0], weight = n.inputs[1];
  kernels::TensorRef dy = w.store.grad(n.output());
  if (fused_relu(n)) {
    const auto gated = w.store.workspace(index);
    w.kernels.elementwise.unary_backward(w.rec, kernels::UnaryOp::Relu, w.store.value(n.output()), dy, gated,
                                         w.rows * w.features(n.output()), false);
    dy = gated;
  }
  if (n.inputs.size() > 2)
    w.kernels.channel_reduce.sum(w.rec, dy, w.grad_out(n.inputs[2]).ref.range, w.rows, g.groups * g.out_channels,
                                 g.out_h() * g.out_w(), true);
  w.kernels.gemm.record(w.rec, kernels::conv_weight_grad(g, w.rows, dy, w.store.value(x), w.grad_out(weight).ref, true));
  if (w.store.requires_grad(x)) {
    const auto [dx, accumulate] = w.grad_out(x);
    w.kernels.gemm.record(w.rec, kernels::conv_data_grad(g, w.rows, w.store.value(weight), dy, dx, accumulate));
  }
}

const OpUnit kUnit{"conv2d", infer, saved, workspace, forward, backward, false, nullptr, bias_at_input_2};

}  // namespace

const OpUnit& unit_for(const graph::attr::Conv2d&) { return kUnit; }

}  // namespace vkgrad::ops
