// nn.Linear: y = x·Wᵀ + b with W [out, in] over the last dimension of x [..., in] (every leading
// per-sample dimension is more rows), one GEMM forward (bias and ReLU in its epilogue) and two
// backward (dW += Gᵀ·X, dX (+)= G·W), where G is dy through the fused ReLU.
#include "ops/op.hpp"

#include "vkgrad/error.hpp"
#include "vkgrad/graph/graph.hpp"

namespace vkgrad::ops {
namespace {

using graph::attr::Linear;
using kernels::ElemType;

bool fused_relu(const graph::Node& n) { return std::get<Linear>(n.attr).activation == graph::Activation::Relu; }

std::vector<std::vector<uint32_t>> infer(const graph::Node& n, std::span<const graph::TensorInfo* const> in) {
  const graph::TensorInfo& x = *in[0];
  const graph::TensorInfo& w = *in[1];
  const auto act = std::get<Linear>(n.attr).activation;
  if (act != graph::Activation::None && act != graph::Activation::Relu)
    throw Error(n.label + ": only ReLU fuses into a linear layer", "apply other activations as their own op");
  if (x.role == graph::TensorRole::Parameter || x.role == graph::TensorRole::Labels)
    throw Error(n.label + ": the input must be an input or activation", "pass per-sample data");
  if (w.role != graph::TensorRole::Parameter || w.dims.size() != 2)
    throw Error(n.label + ": the weight must be a [out, in] parameter, got " + shape_string(w),
                "create it with parameter()");
  if (x.dims.empty() || x.dims.back() != w.dims[1])
    throw Error(n.label + ": input " + shape_string(x) + " does not match weight " + shape_string(w),
                "the input's last dimension must equal the weight's second (in_features)");
  if (in.size() > 2) {
    const graph::TensorInfo& b = *in[2];
    if (b.role != graph::TensorRole::Parameter || b.dims.size() != 1 || b.dims[0] != w.dims[0])
      throw Error(n.label + ": bias " + shape_string(b) + " does not match weight " + shape_string(w),
                  "the bias must be a parameter of shape [out_features]");
  }
  auto out = x.dims;
  out.back() = w.dims[0];
  return {out};
}

// GEMM rows: the batch times the leading per-sample dimensions.
uint32_t gemm_rows(const graph::Node& n, const Walk& w) {
  return w.rows * uint32_t(w.features(n.inputs[0]) / w.dims(n.inputs[0]).back());
}

std::vector<uint32_t> saved(const graph::Node& n) { return layer_saved(n, fused_relu(n)); }

uint64_t workspace(const graph::Node& n, const graph::Graph& g) { return layer_workspace(n, g, fused_relu(n)); }

void forward(const graph::Node& n, uint32_t, Walk& w) {
  const uint32_t in = w.dims(n.inputs[1])[1], out = w.dims(n.inputs[1])[0], rows = gemm_rows(n, w);
  const auto x = w.store.value(n.inputs[0]), wt = w.store.value(n.inputs[1]), y = w.store.value(n.output());
  kernels::GemmDesc d;
  d.m = rows, d.n = out, d.k = in;
  d.a = {x.range, x.type, in, 0, false};
  d.b = {wt.range, wt.type, in, 0, true};
  d.c = {y.range, y.type, out, 0, false};
  if (n.inputs.size() > 2) {
    const auto b = w.store.value(n.inputs[2]);
    d.bias = b.range;
    d.bias_type = b.type;
  }
  d.activation = fused_relu(n) ? kernels::Activation::Relu : kernels::Activation::None;
  w.kernels.gemm.record(w.rec, d);
}

void backward(const graph::Node& n, uint32_t index, Walk& w) {
  const uint32_t x = n.inputs[0], weight = n.inputs[1];
  const uint32_t in = w.dims(weight)[1], out = w.dims(weight)[0], rows = gemm_rows(n, w);
  const auto dy = w.store.grad(n.output());
  kernels::TensorRef g = dy;
  const bool bias = n.inputs.size() > 2;
  const auto& ew = w.kernels.elementwise;
  if (fused_relu(n)) {
    // relu'(pre) = [y > 0]; the bias gradient comes out of the same pass.
    g = w.store.workspace(index);
    if (bias)
      ew.unary_backward_column_sum(w.rec, kernels::UnaryOp::Relu, w.store.value(n.output()), dy, g,
                                   w.grad_out(n.inputs[2]).ref.range, rows, out, true);
    else
      ew.unary_backward(w.rec, kernels::UnaryOp::Relu, w.store.value(n.output()), dy, g, rows * out, false);
  } else if (bias) {
    ew.column_sum(w.rec, g, w.grad_out(n.inputs[2]).ref, rows, out, true);
  }
  const auto xv = w.store.value(x), gw = w.grad_out(weight).ref;
  kernels::GemmDesc dw;  // dW += Gᵀ·X
  dw.m = out, dw.n = in, dw.k = rows;
  dw.a = {g.range, g.type, out, 0, true};
  dw.b = {xv.range, xv.type, in, 0, false};
  dw.c = {gw.range, ElemType::F32, in, 0, false};
  dw.beta = 1.0f;
  w.kernels.gemm.record(w.rec, dw);
  if (w.store.requires_grad(x)) {
    const auto wv = w.store.value(weight);
    const auto [gx, accumulate] = w.grad_out(x);
    kernels::GemmDesc dx;  // dX (+)= G·W
    dx.m = rows, dx.n = in, dx.k = out;
    dx.a = {g.range, g.type, out, 0, false};
    dx.b = {wv.range, wv.type, in, 0, false};
    dx.c = {gx.range, gx.type, in, 0, false};
    dx.beta = accumulate ? 1.0f : 0.0f;
    w.kernels.gemm.record(w.rec, dx);
  }
}

const OpUnit kUnit{"linear", infer, saved, workspace, forward, backward, false, nullptr, bias_at_input_2};

}  // namespace

const OpUnit& unit_for(const graph::attr::Linear&) { return kUnit; }

}  // namespace vkgrad::ops
