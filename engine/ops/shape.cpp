// Reshape (and flatten): a view. The output aliases its input's value and gradient memory, so
// it records nothing either way. Transpose: a copy with two per-sample dimensions swapped (its
// backward swaps them back). Split heads: attention heads cut out of a fused projection's
// columns, one strided copy each way.
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

using graph::attr::SplitHeads;

std::vector<std::vector<uint32_t>> infer_split_heads(const graph::Node& n,
                                                     std::span<const graph::TensorInfo* const> in) {
  require_per_sample(n, *in[0], "the input");
  const auto& a = std::get<SplitHeads>(n.attr);
  const auto& d = in[0]->dims;
  if (d.size() != 2 || a.heads == 0 || a.head_dim == 0 || uint64_t(a.offset) + uint64_t(a.heads) * a.head_dim > d[1])
    throw Error(n.label + ": " + std::to_string(a.heads) + " heads of " + std::to_string(a.head_dim) + " from column " +
                    std::to_string(a.offset) + " of " + shape_string(*in[0]),
                "split [T, width] inputs inside their width");
  return {{a.heads, d[0], a.head_dim}};
}

// x's [rows, T, width] columns [offset, offset + heads·head_dim) as [rows, heads, T, head_dim].
kernels::StridedCopy heads_view(const graph::Node& n, const Walk& w, bool into_x) {
  const auto& a = std::get<SplitHeads>(n.attr);
  const uint32_t t = w.dims(n.inputs[0])[0], width = w.dims(n.inputs[0])[1], hd = a.head_dim;
  const std::array<uint32_t, 5> strided{0, t * width, hd, width, 1}, packed{0, a.heads * t * hd, t * hd, hd, 1};
  kernels::StridedCopy c;
  c.dims = {1, w.rows, a.heads, t, hd};
  c.src_strides = into_x ? packed : strided;
  c.dst_strides = into_x ? strided : packed;
  (into_x ? c.dst_offset : c.src_offset) = a.offset;
  return c;
}

void split_heads_forward(const graph::Node& n, uint32_t, Walk& w) {
  w.kernels.elementwise.strided_copy(w.rec, w.store.value(n.inputs[0]), w.store.value(n.output()),
                                     heads_view(n, w, false), false);
}

void split_heads_backward(const graph::Node& n, uint32_t, Walk& w) {
  const uint32_t x = n.inputs[0];
  if (!w.store.requires_grad(x)) return;
  const auto [dx, accumulate] = w.grad_out(x);
  if (!accumulate) w.rec.fill(dx.range, 0u);  // the columns of the other heads' parts
  w.kernels.elementwise.strided_copy(w.rec, w.store.grad(n.output()), dx, heads_view(n, w, true), true);
}

const OpUnit kSplitHeads{"split_heads", infer_split_heads, no_saved, no_workspace, split_heads_forward,
                         split_heads_backward};

}  // namespace

const OpUnit& unit_for(const graph::attr::Reshape&) { return kUnit; }
const OpUnit& unit_for(const SplitHeads&) { return kSplitHeads; }
const OpUnit& unit_for(const graph::attr::Transpose&) { return kTranspose; }

}  // namespace vkgrad::ops
