// ops::activation_types: the mixed-precision policy of a whole graph from its units' rules.
#include "ops/op.hpp"

#include "vkgrad/graph/graph.hpp"

namespace vkgrad::ops {

std::vector<kernels::ElemType> activation_types(const graph::Graph& graph, kernels::ElemType activation) {
  using kernels::ElemType;
  const auto& ts = graph.tensors();
  const auto& nodes = graph.nodes();
  std::vector<ElemType> types(ts.size(), activation);
  if (activation == ElemType::F32) return types;
  const auto base = [&](uint32_t t) { return graph.base(t); };
  const auto is_view = [&](const graph::Node& n) { return ts[n.output()].alias_of >= 0; };

  // Wide (fp32) values are proposed forward from the rules, then any that an fp16-only op reads
  // is refused, which may leave later pointwise results without a wide input: repeat until
  // nothing more is refused (at most once per tensor).
  std::vector<bool> refused(ts.size(), false), wide(ts.size(), false);
  for (bool changed = true; changed;) {
    changed = false;
    std::fill(wide.begin(), wide.end(), false);
    for (const auto& n : nodes) {
      if (is_view(n)) continue;
      const MixedPrecision rule = unit(n.attr).precision;
      bool w = rule == MixedPrecision::Fp32Out;
      if (rule == MixedPrecision::Widest)
        for (uint32_t in : n.inputs) w = w || wide[base(in)];
      for (uint32_t o : n.outputs) wide[o] = w && !refused[o];
    }
    for (const auto& n : nodes) {
      const MixedPrecision rule = unit(n.attr).precision;
      if (is_view(n) || rule == MixedPrecision::Fp32In || rule == MixedPrecision::Widest) continue;
      for (uint32_t in : n.inputs)
        if (wide[base(in)] && !refused[base(in)]) refused[base(in)] = changed = true;
    }
  }
  for (uint32_t t = 0; t < ts.size(); ++t)
    if (wide[base(t)]) types[t] = ElemType::F32;
  return types;
}

}  // namespace vkgrad::ops
