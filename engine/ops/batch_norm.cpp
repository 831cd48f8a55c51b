// nn.BatchNorm2d on kernels::BatchNorm: batch statistics (over the batch's valid rows) and
// running-statistic updates while training, running statistics in evaluation; the backward
// recomputes the statistics from the saved input.
#include "ops/op.hpp"

#include "vkgrad/error.hpp"
#include "vkgrad/graph/graph.hpp"

namespace vkgrad::ops {
namespace {

using graph::attr::BatchNorm2d;

std::vector<std::vector<uint32_t>> infer(const graph::Node& n, std::span<const graph::TensorInfo* const> in) {
  const auto& a = std::get<BatchNorm2d>(n.attr);
  require_per_sample(n, *in[0], "the input");
  if (in[0]->dims.size() != 3)
    throw Error(n.label + ": input " + shape_string(*in[0]) + " is not [batch, channels, h, w]", "reshape the input");
  const uint32_t c = in[0]->dims[0];
  const graph::TensorRole roles[] = {graph::TensorRole::Parameter, graph::TensorRole::Parameter,
                                     graph::TensorRole::Buffer, graph::TensorRole::Buffer, graph::TensorRole::Buffer};
  for (size_t i = 1; i < 6; ++i) {
    const bool count = i == 5;
    if (in[i]->role != roles[i - 1] || in[i]->dims != (count ? std::vector<uint32_t>{} : std::vector<uint32_t>{c}))
      throw Error(n.label + ": '" + in[i]->name + "' " + shape_string(*in[i]) + " does not fit " + std::to_string(c) +
                      " channels",
                  "create the layer with Graph::batch_norm2d");
  }
  if (!(a.eps > 0.0f) || !(a.momentum >= 0.0f && a.momentum <= 1.0f))
    throw Error(n.label + ": eps must be > 0 and momentum in [0, 1]", "PyTorch's defaults are 1e-5 and 0.1");
  return {in[0]->dims};
}

std::vector<uint32_t> saved(const graph::Node& n) { return {n.inputs[0]}; }

kernels::BatchNormShape shape(const graph::Node& n, const Walk& w) {
  const auto& a = std::get<BatchNorm2d>(n.attr);
  const auto& d = w.dims(n.inputs[0]);
  return {w.rows, d[0], d[1] * d[2], a.eps, a.momentum};
}

kernels::BatchNormTensors tensors(const graph::Node& n, const Walk& w) {
  return {w.store.value(n.inputs[1]),       w.store.value(n.inputs[2]),       w.store.value(n.inputs[3]).range,
          w.store.value(n.inputs[4]).range, w.store.value(n.inputs[5]).range, w.step_params};
}

void forward(const graph::Node& n, uint32_t, Walk& w) {
  w.kernels.batch_norm.forward(w.rec, shape(n, w), tensors(n, w), w.store.value(n.inputs[0]),
                               w.store.value(n.output()), w.training);
}

void backward(const graph::Node& n, uint32_t, Walk& w) {
  const uint32_t x = n.inputs[0];
  const auto dx = w.grad_out_if_needed(x);
  w.kernels.batch_norm.backward(w.rec, shape(n, w), tensors(n, w), w.store.value(x), w.store.grad(n.output()),
                                dx ? std::optional(dx->ref) : std::nullopt, w.grad_out(n.inputs[1]).ref.range,
                                w.grad_out(n.inputs[2]).ref.range, dx && dx->accumulate);
}

// γ and β; the other inputs are buffers.
ParamKind param_kind(const graph::Node&, size_t) { return ParamKind::Norm; }

const OpUnit kUnit{"batch_norm2d", infer, saved, no_workspace, forward, backward, false, nullptr, param_kind};

}  // namespace

const OpUnit& unit_for(const graph::attr::BatchNorm2d&) { return kUnit; }

}  // namespace vkgrad::ops
