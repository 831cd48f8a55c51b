// nn.LayerNorm over the last dimension on kernels::LayerNorm: every leading per-sample dimension
// is more rows. The backward recomputes the row statistics from the saved input (into its
// workspace) rather than keeping them from the forward.
#include "ops/op.hpp"

#include "vkgrad/error.hpp"
#include "vkgrad/graph/graph.hpp"

namespace vkgrad::ops {
namespace {

using graph::attr::LayerNorm;

std::vector<std::vector<uint32_t>> infer(const graph::Node& n, std::span<const graph::TensorInfo* const> in) {
  require_per_sample(n, *in[0], "the input");
  if (in[0]->dims.empty())
    throw Error(n.label + ": input " + shape_string(*in[0]) + " has no dimension to normalize", "reshape the input");
  const uint32_t d = in[0]->dims.back();
  for (size_t i = 1; i < 3; ++i)
    if (in[i]->role != graph::TensorRole::Parameter || in[i]->dims != std::vector<uint32_t>{d})
      throw Error(n.label + ": '" + in[i]->name + "' " + shape_string(*in[i]) + " is not a [" + std::to_string(d) +
                      "] parameter",
                  "create the layer with Graph::layer_norm");
  if (!(std::get<LayerNorm>(n.attr).eps > 0.0f)) throw Error(n.label + ": eps must be > 0", "PyTorch's default is 1e-5");
  return {in[0]->dims};
}

std::vector<uint32_t> saved(const graph::Node& n) { return {n.inputs[0]}; }

// The rows one sample contributes.
uint32_t rows_per_sample(const graph::Node& n, const graph::Graph& g) {
  const auto& t = g.tensors()[n.inputs[0]];
  return uint32_t(t.elements() / t.dims.back());
}

// Two fp32 statistics per row, in activation-typed elements of either width.
uint64_t workspace(const graph::Node& n, const graph::Graph& g) { return 4ull * rows_per_sample(n, g); }

void forward(const graph::Node& n, uint32_t, Walk& w) {
  const uint32_t dim = w.dims(n.inputs[0]).back();
  w.kernels.layer_norm.forward(w.rec, w.store.value(n.inputs[0]), w.store.value(n.inputs[1]),
                               w.store.value(n.inputs[2]), w.store.value(n.output()),
                               w.rows * rows_per_sample(n, w.graph), dim, std::get<LayerNorm>(n.attr).eps);
}

void backward(const graph::Node& n, uint32_t index, Walk& w) {
  const uint32_t x = n.inputs[0], dim = w.dims(x).back();
  const auto dx = w.grad_out_if_needed(x);
  w.kernels.layer_norm.backward(w.rec, w.store.value(x), w.store.grad(n.output()), w.store.value(n.inputs[1]),
                                dx ? std::optional(dx->ref) : std::nullopt, dx && dx->accumulate,
                                w.grad_out(n.inputs[1]).ref.range, w.grad_out(n.inputs[2]).ref.range,
                                w.store.workspace(index).range, w.rows * rows_per_sample(n, w.graph), dim,
                                std::get<LayerNorm>(n.attr).eps);
}

ParamKind param_kind(const graph::Node&, size_t) { return ParamKind::Norm; }

const OpUnit kLayerNorm{"layer_norm", infer, saved, workspace, forward, backward, false, nullptr, param_kind,
                        MixedPrecision::Fp32In};

}  // namespace

const OpUnit& unit_for(const LayerNorm&) { return kLayerNorm; }

}  // namespace vkgrad::ops
