// nn.Embedding on kernels::Embedding: rows of the table looked up by int32 ids fed as labels();
// the backward scatters into the table's gradient through the node's fixed-point accumulator
// (its NodeMemory), so repeated tokens sum deterministically.
#include "ops/op.hpp"

#include "vkgrad/error.hpp"
#include "vkgrad/graph/graph.hpp"
#include "vkgrad/kernels/fixed_point.hpp"

namespace vkgrad::ops {
namespace {

std::vector<std::vector<uint32_t>> infer(const graph::Node& n, std::span<const graph::TensorInfo* const> in) {
  const graph::TensorInfo& ids = *in[0];
  const graph::TensorInfo& w = *in[1];
  if (ids.role != graph::TensorRole::Labels)
    throw Error(n.label + ": looks up int32 ids, got " + shape_string(ids),
                "declare the token ids with graph.labels(name, {positions})");
  if (w.role != graph::TensorRole::Parameter || w.dims.size() != 2)
    throw Error(n.label + ": the table " + shape_string(w) + " is not a [vocab, dim] parameter",
                "create the layer with Graph::embedding");
  auto out = ids.dims;
  out.push_back(w.dims[1]);
  return {out};
}

uint32_t positions(const graph::Node& n, const graph::Graph& g, uint32_t rows) {
  return rows * uint32_t(g.tensors()[n.inputs[0]].elements());
}

NodeMemory memory(const graph::Node& n, const graph::Graph& g) {
  const auto& w = g.tensors()[n.inputs[1]];
  return {{}, kernels::fixed_point_accum_bytes(w.elements())};
}

void forward(const graph::Node& n, uint32_t, Walk& w) {
  const auto& table = w.dims(n.inputs[1]);
  w.kernels.embedding.forward(w.rec, w.store.value(n.inputs[0]).range, w.store.value(n.inputs[1]),
                              w.store.value(n.output()), positions(n, w.graph, w.rows), table[1], table[0]);
}

void backward(const graph::Node& n, uint32_t index, Walk& w) {
  const auto& table = w.dims(n.inputs[1]);
  w.kernels.embedding.backward(w.rec, w.store.value(n.inputs[0]).range, w.store.grad(n.output()),
                               w.store.node_scratch(index), w.grad_out(n.inputs[1]).ref.range,
                               positions(n, w.graph, w.rows), table[1], table[0]);
}

// The backward reads the ids (a feed, alive for the whole step) and nothing else.
ParamKind param_kind(const graph::Node&, size_t) { return ParamKind::Embedding; }

const OpUnit kEmbedding{"embedding", infer, no_saved, no_workspace, forward, backward, false, memory, param_kind,
                        MixedPrecision::Fp32Out};

}  // namespace

const OpUnit& unit_for(const graph::attr::Embedding&) { return kEmbedding; }

}  // namespace vkgrad::ops
