#include "ops/op.hpp"

#include "vkgrad/error.hpp"
#include "vkgrad/graph/graph.hpp"

namespace vkgrad::ops {

Kernels::Kernels(vk::Context& ctx)
    : gemm(ctx),
      elementwise(ctx),
      softmax(ctx),
      loss(ctx),
      pool(ctx),
      channel_reduce(ctx),
      batch_norm(ctx),
      encoding(ctx),
      hash_grid(ctx),
      layer_norm(ctx),
      embedding(ctx),
      dropout(ctx),
      attention(ctx) {}

Walk::Walk(const graph::Graph& g, const TensorStore& s, const Kernels& k, vk::Recorder& r, uint32_t rows_,
           bool training_)
    : graph(g), store(s), kernels(k), rec(r), rows(rows_), training(training_), written_(g.tensors().size(), false) {}

Walk::Walk(const Walk& w, vk::Recorder& r)
    : graph(w.graph), store(w.store), kernels(w.kernels), rec(r), rows(w.rows), training(w.training),
      step_params(w.step_params), step_state(w.step_state), seed(w.seed), written_(w.written_) {}

const std::vector<uint32_t>& Walk::dims(uint32_t t) const { return graph.tensors()[t].dims; }

uint32_t Walk::features(uint32_t t) const { return uint32_t(graph.tensors()[t].elements()); }

bool Walk::is_parameter(uint32_t t) const { return graph.tensors()[t].role == graph::TensorRole::Parameter; }

uint32_t Walk::base(uint32_t t) const { return graph.base(t); }

std::optional<Walk::GradOut> Walk::grad_out_if_needed(uint32_t t) {
  if (!store.requires_grad(t)) return std::nullopt;
  return grad_out(t);
}

Walk::GradOut Walk::grad_out(uint32_t t) {
  if (is_parameter(t)) return {store.grad(t), true};
  const bool accumulate = written_[base(t)];
  written_[base(t)] = true;
  return {store.grad(t), accumulate};
}

bool Walk::has_grad(uint32_t t) const { return is_parameter(t) || written_[base(t)]; }

void Walk::add_grad(uint32_t t, const kernels::TensorRef& contribution) {
  const uint32_t n = rows * features(t);
  const auto [g, accumulate] = grad_out(t);
  if (accumulate)
    kernels.elementwise.binary(rec, kernels::BinaryOp::Add, g, contribution, g, 1, n, false);
  else
    kernels.elementwise.unary(rec, kernels::UnaryOp::Identity, contribution, g, n);
}

const OpUnit& unit(const graph::OpAttr& attr) {
  return std::visit([](const auto& a) -> const OpUnit& { return unit_for(a); }, attr);
}

std::vector<uint32_t> no_saved(const graph::Node&) { return {}; }

uint64_t no_workspace(const graph::Node&, const graph::Graph&) { return 0; }

std::vector<uint32_t> layer_saved(const graph::Node& n, bool fused_relu) {
  if (fused_relu) return {n.inputs[0], n.output()};
  return {n.inputs[0]};
}

ParamKind bias_at_input_2(const graph::Node&, size_t input) { return input == 2 ? ParamKind::Bias : ParamKind::Weight; }

uint64_t layer_workspace(const graph::Node& n, const graph::Graph& g, bool fused_relu) {
  return fused_relu ? g.tensors()[n.output()].elements() : 0;
}

void require_per_sample(const graph::Node& node, const graph::TensorInfo& t, const char* what) {
  if (t.role == graph::TensorRole::Parameter || t.role == graph::TensorRole::Labels)
    throw Error(node.label + ": " + what + " must be per-sample data (an input or an activation), got " +
                    (t.role == graph::TensorRole::Labels ? "labels" : "parameter '" + t.name + "'"),
                "pass per-sample data");
}

}  // namespace vkgrad::ops
