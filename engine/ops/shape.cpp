// Reshape (and flatten): a view. The output aliases its input's value and gradient memory, so
// it records nothing either way.
#include "ops/op.hpp"

#include "vkgrad/error.hpp"
#include "vkgrad/graph/graph.hpp"

namespace vkgrad::ops {
namespace {

std::vector<std::vector<uint32_t>> infer(const graph::Node& n, std::span<const graph::TensorInfo* const> in) {
  if (in[0]->role == graph::TensorRole::Labels || in[0]->role == graph::TensorRole::Parameter)
    throw Error(n.label + ": only per-sample data can be reshaped", "");
  graph::TensorInfo probe{"", graph::TensorRole::Activation, std::get<graph::attr::Reshape>(n.attr).dims};
  if (probe.dims.empty() || probe.elements() != in[0]->elements())
    throw Error(n.label + ": " + shape_string(*in[0]) + " cannot become " + shape_string(probe),
                "the per-sample element count must stay the same");
  return {probe.dims};
}

void nothing(const graph::Node&, uint32_t, Walk&) {}

const OpUnit kUnit{"reshape", infer, no_saved, no_workspace, nothing, nothing};

}  // namespace

const OpUnit& unit_for(const graph::attr::Reshape&) { return kUnit; }

}  // namespace vkgrad::ops
