#include "graph/lifetimes.hpp"

#include "ops/op.hpp"
#include "vkgrad/error.hpp"

#include <algorithm>

namespace vkgrad::graph {

ActivationRequests activation_requests(const Graph& graph, uint32_t rows, std::span<const kernels::ElemType> types,
                                       uint64_t alignment, bool forward_only) {
  const auto& ts = graph.tensors();
  const auto& nodes = graph.nodes();
  const auto& spec = *graph.loss();
  if (types.size() != ts.size())
    throw Error("activation_requests: " + std::to_string(types.size()) + " element types for " +
                    std::to_string(ts.size()) + " tensors",
                "pass ops::activation_types(graph, ...)");
  const StepPositions at{uint32_t(nodes.size())};
  const auto base = [&](uint32_t t) { return graph.base(t); };

  ActivationRequests out;
  auto& requires_grad = out.requires_grad;
  requires_grad.assign(ts.size(), false);
  for (uint32_t t = 0; t < ts.size(); ++t) requires_grad[t] = ts[t].role == TensorRole::Parameter;
  std::vector<bool> node_grad(nodes.size(), false);
  for (size_t i = 0; i < nodes.size(); ++i) {
    for (uint32_t in : nodes[i].inputs) node_grad[i] = node_grad[i] || requires_grad[in];
    for (uint32_t o : nodes[i].outputs) requires_grad[o] = node_grad[i];
  }
  if (!requires_grad[spec.pred] && !forward_only)
    throw Error("the loss does not depend on any parameter", "connect the predictions to a trained layer");

  // Values: read by forward consumers, by the backwards that saved them, and by the loss.
  std::vector<uint32_t> needed(ts.size(), 0);
  const auto need = [&](uint32_t t, uint32_t pos) { needed[base(t)] = std::max(needed[base(t)], pos); };
  for (size_t i = 0; i < nodes.size(); ++i) {
    for (uint32_t in : nodes[i].inputs) need(in, at.forward(i));
    if (node_grad[i] && !forward_only)
      for (uint32_t s : ops::unit(nodes[i].attr).saved(nodes[i])) need(s, at.backward(i));
  }
  need(spec.pred, forward_only ? at.loss_forward() : at.loss_backward());

  const auto request = [&](std::string name, kernels::ElemType type, uint64_t elements, uint32_t first, uint32_t last,
                           MemoryCategory cat, ActivationRequests::Kind kind, uint32_t owner) {
    out.requests.push_back({std::move(name), kernels::tensor_bytes(type, uint64_t(rows) * elements), first,
                            std::max(first, last), alignment, cat, true});
    out.owners.push_back({kind, owner});
  };
  for (uint32_t t = 0; t < ts.size(); ++t) {
    const auto& ti = ts[t];
    if (base(t) != t || ti.role != TensorRole::Activation) continue;
    const uint32_t born = at.forward(size_t(ti.producer));
    request(ti.name.empty() ? "activation " + std::to_string(t) : ti.name, types[t], ti.elements(), born,
            std::max(needed[t], born), MemoryCategory::Activations, ActivationRequests::Kind::Value, t);
    if (!requires_grad[t] || forward_only) continue;
    // Written first by the earliest backward of a consumer (or the loss), read last by the
    // producer's backward. An output nothing differentiates (max pooling's taps) gets none.
    uint32_t first = at.backward(size_t(ti.producer));
    bool receives = base(spec.pred) == t;
    for (size_t i = 0; i < nodes.size(); ++i)
      for (uint32_t in : nodes[i].inputs)
        if (base(in) == t && node_grad[i]) {
          first = std::min(first, at.backward(i));
          receives = true;
        }
    if (!receives) continue;
    if (base(spec.pred) == t) first = std::min(first, at.loss_backward());
    request("grad of activation " + std::to_string(t), types[t], ti.elements(), first, at.backward(size_t(ti.producer)),
            MemoryCategory::Activations, ActivationRequests::Kind::Grad, t);
  }
  for (size_t i = 0; i < nodes.size(); ++i) {
    if (!node_grad[i] || forward_only) continue;
    const uint64_t elements = ops::unit(nodes[i].attr).workspace(nodes[i], graph);
    if (elements)
      request("backward scratch of " + nodes[i].label, types[nodes[i].output()], elements, at.backward(i), at.backward(i),
              MemoryCategory::Workspace, ActivationRequests::Kind::Workspace, uint32_t(i));
  }
  return out;
}

}  // namespace vkgrad::graph
