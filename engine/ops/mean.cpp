// mean over a per-sample dimension: adaptive average pooling of the tensor viewed as
// [batch · before, dim, after] planes down to [.., 1, after], forward and backward.
#include "ops/op.hpp"

#include "vkgrad/error.hpp"
#include "vkgrad/graph/graph.hpp"

#include <numeric>

namespace vkgrad::ops {
namespace {

using graph::attr::Mean;

kernels::PoolGeometry geometry(const std::vector<uint32_t>& dims, uint32_t dim, uint32_t batch) {
  const auto product = [&](size_t from, size_t to) {
    return std::accumulate(dims.begin() + std::ptrdiff_t(from), dims.begin() + std::ptrdiff_t(to), uint32_t{1},
                           std::multiplies<>());
  };
  kernels::PoolGeometry g;
  g.kind = kernels::PoolKind::Average;
  g.adaptive = true;
  g.planes = batch * product(0, dim);
  g.in_h = dims[dim];
  g.in_w = product(dim + 1, dims.size());
  g.adaptive_h = 1;
  g.adaptive_w = g.in_w;
  return g;
}

std::vector<std::vector<uint32_t>> infer(const graph::Node& n, std::span<const graph::TensorInfo* const> in) {
  const uint32_t dim = std::get<Mean>(n.attr).dim;
  require_per_sample(n, *in[0], "the input");
  if (dim >= in[0]->dims.size())
    throw Error(n.label + ": no dimension " + std::to_string(dim) + " in " + shape_string(*in[0]),
                "count per-sample dimensions from 0 (or from the end with negative numbers)");
  auto out = in[0]->dims;
  out.erase(out.begin() + dim);
  if (out.empty()) out.push_back(1);  // a per-sample scalar stays one feature
  return {out};
}

void forward(const graph::Node& n, uint32_t, Walk& w) {
  const auto g = geometry(w.dims(n.inputs[0]), std::get<Mean>(n.attr).dim, w.rows);
  w.kernels.pool.forward(w.rec, g, w.store.value(n.inputs[0]), w.store.value(n.output()));
}

void backward(const graph::Node& n, uint32_t, Walk& w) {
  const uint32_t x = n.inputs[0];
  if (!w.store.requires_grad(x)) return;
  const auto g = geometry(w.dims(x), std::get<Mean>(n.attr).dim, w.rows);
  const auto [dx, accumulate] = w.grad_out(x);
  w.kernels.pool.backward(w.rec, g, std::nullopt, w.store.grad(n.output()), dx, accumulate);
}

const OpUnit kUnit{"mean", infer, no_saved, no_workspace, forward, backward};

}  // namespace

const OpUnit& unit_for(const graph::attr::Mean&) { return kUnit; }

}  // namespace vkgrad::ops
