// Reshape (and flatten): a view. The output aliases its input's value and gradient memory, so
// it records nothing either way. Transpose: a copy with two per-sample dimensions swapped (its
// backward swaps them back).
#include "ops/op.hpp"

#include "vkgrad/error.hpp"
#include "vkgrad/graph/graph.hpp"

#include <array>

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

using graph::attr::Transpose;

std::vector<std::vector<uint32_t>> infer_transpose(const graph::Node& n,
                                                   std::span<const graph::TensorInfo* const> in) {
  require_per_sample(n, *in[0], "the input");
  const auto& a = std::get<Transpose>(n.attr);
  auto dims = in[0]->dims;
  if (a.dim0 >= a.dim1 || a.dim1 >= dims.size())
    throw Error(n.label + ": dimensions " + std::to_string(a.dim0) + " and " + std::to_string(a.dim1) + " of " +
                    shape_string(*in[0]),
                "swap two distinct per-sample dimensions");
  std::swap(dims[a.dim0], dims[a.dim1]);
  return {dims};
}

// `dims` (per sample) as the kernel's shape: [rows·before, d0, between, d1, after], swapping 1 and 3.
std::array<uint32_t, 5> collapsed(const std::vector<uint32_t>& dims, uint32_t d0, uint32_t d1, uint32_t rows) {
  std::array<uint32_t, 5> s{rows, dims[d0], 1, dims[d1], 1};
  for (uint32_t d = 0; d < dims.size(); ++d) {
    if (d < d0) s[0] *= dims[d];
    if (d > d0 && d < d1) s[2] *= dims[d];
    if (d > d1) s[4] *= dims[d];
  }
  return s;
}

void transpose_forward(const graph::Node& n, uint32_t, Walk& w) {
  const auto& a = std::get<Transpose>(n.attr);
  w.kernels.elementwise.transpose(w.rec, w.store.value(n.inputs[0]), w.store.value(n.output()),
                                  collapsed(w.dims(n.inputs[0]), a.dim0, a.dim1, w.rows), 1, 3, false);
}

void transpose_backward(const graph::Node& n, uint32_t, Walk& w) {
  const uint32_t x = n.inputs[0];
  if (!w.store.requires_grad(x)) return;
  const auto& a = std::get<Transpose>(n.attr);
  const auto [dx, accumulate] = w.grad_out(x);
  w.kernels.elementwise.transpose(w.rec, w.store.grad(n.output()), dx,
                                  collapsed(w.dims(n.output()), a.dim0, a.dim1, w.rows), 1, 3, accumulate);
}

const OpUnit kTranspose{"transpose", infer_transpose, no_saved, no_workspace, transpose_forward, transpose_backward};

}  // namespace

const OpUnit& unit_for(const graph::attr::Reshape&) { return kUnit; }
const OpUnit& unit_for(const graph::attr::Transpose&) { return kTranspose; }

}  // namespace vkgrad::ops
