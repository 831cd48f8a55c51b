// Fused multi-head attention over a packed qkv on kernels::Attention: the forward keeps each
// row's log-sum-exp (output 1) so that the backward recomputes the probabilities instead of
// storing them; its workspace holds the backward's δ rows. Both are fp32 values laid in
// activation-typed elements, two per value, so they fit in either precision.
#include "ops/op.hpp"

#include "vkgrad/error.hpp"
#include "vkgrad/graph/graph.hpp"

namespace vkgrad::ops {
namespace {

using graph::attr::Attention;

std::vector<std::vector<uint32_t>> infer(const graph::Node& n, std::span<const graph::TensorInfo* const> in) {
  require_per_sample(n, *in[0], "qkv");
  const auto& a = std::get<Attention>(n.attr);
  const auto& d = in[0]->dims;
  if (d.size() != 2 || a.heads == 0 || d[1] % (3 * a.heads) != 0)
    throw Error(n.label + ": qkv " + shape_string(*in[0]) + " for " + std::to_string(a.heads) + " heads",
                "pass [batch, T, 3·heads·head_dim] (q, k and v side by side)");
  const uint32_t t = d[0], head_dim = d[1] / (3 * a.heads);
  if (head_dim % 2 != 0 || head_dim > kernels::AttentionShape::kMaxHeadDim)
    throw Error(n.label + ": a head dim of " + std::to_string(head_dim),
                "the fused attention takes even head dims up to " +
                    std::to_string(kernels::AttentionShape::kMaxHeadDim) + "; use the composed one for others");
  return {{t, d[1] / 3}, {a.heads, t, 2}};
}

std::vector<uint32_t> saved(const graph::Node& n) { return {n.inputs[0], n.outputs[0], n.outputs[1]}; }

kernels::AttentionShape shape(const graph::Node& n, const graph::Graph& g, uint32_t rows) {
  const auto& a = std::get<Attention>(n.attr);
  const auto& d = g.tensors()[n.inputs[0]].dims;
  return {rows, d[0], a.heads, d[1] / (3 * a.heads), a.causal, a.scale};
}

uint64_t workspace(const graph::Node& n, const graph::Graph& g) { return 2 * shape(n, g, 1).rows(); }

void forward(const graph::Node& n, uint32_t, Walk& w) {
  w.kernels.attention.forward(w.rec, shape(n, w.graph, w.rows), w.store.value(n.inputs[0]),
                              w.store.value(n.outputs[0]), w.store.value(n.outputs[1]).range,
                              w.kernels.attention_variant);
}

void backward(const graph::Node& n, uint32_t index, Walk& w) {
  const auto dqkv = w.grad_out_if_needed(n.inputs[0]);
  if (!dqkv) return;
  w.kernels.attention.backward(w.rec, shape(n, w.graph, w.rows), w.store.value(n.inputs[0]),
                               w.store.value(n.outputs[0]), w.store.grad(n.outputs[0]),
                               w.store.value(n.outputs[1]).range, dqkv->ref, dqkv->accumulate,
                               w.store.workspace(index).range, w.kernels.attention_variant);
}

const OpUnit kUnit{"attention", infer, saved, workspace, forward, backward};

}  // namespace

const OpUnit& unit_for(const Attention&) { return kUnit; }

}  // namespace vkgrad::ops
