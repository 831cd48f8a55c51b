// Softmax over the last dimension, optionally causal (attention scores [..., T, T]: query i
// sees keys j ≤ i); its backward reads only the output: dx = y·(dy − Σ dy·y).
#include "ops/op.hpp"

#include "vkgrad/error.hpp"
#include "vkgrad/graph/graph.hpp"

namespace vkgrad::ops {
namespace {

std::vector<std::vector<uint32_t>> infer(const graph::Node& n, std::span<const graph::TensorInfo* const> in) {
  require_per_sample(n, *in[0], "the input");
  const auto& d = in[0]->dims;
  if (std::get<graph::attr::Softmax>(n.attr).causal && (d.size() < 2 || d[d.size() - 2] != d.back()))
    throw Error(n.label + ": a causal softmax needs square [..., T, T] scores, got " + shape_string(*in[0]),
                "apply it to query × key scores");
  return {d};
}

std::vector<uint32_t> saved(const graph::Node& n) { return {n.output()}; }

void forward(const graph::Node& n, uint32_t, Walk& w) {
  const uint32_t last = w.dims(n.output()).back();
  w.kernels.softmax.forward(w.rec, w.store.value(n.inputs[0]), w.store.value(n.output()),
                            w.rows * (w.features(n.output()) / last), last,
                            std::get<graph::attr::Softmax>(n.attr).causal);
}

void backward(const graph::Node& n, uint32_t, Walk& w) {
  const uint32_t x = n.inputs[0], last = w.dims(n.output()).back();
  if (!w.store.requires_grad(x)) return;
  const auto [dx, accumulate] = w.grad_out(x);
  w.kernels.softmax.backward(w.rec, w.store.value(n.output()), w.store.grad(n.output()), dx,
                             w.rows * (w.features(n.output()) / last), last, accumulate);
}

const OpUnit kUnit{"softmax", infer, saved, no_workspace, forward, backward};

}  // namespace

const OpUnit& unit_for(const graph::attr::Softmax&) { return kUnit; }

}  // namespace vkgrad::ops
