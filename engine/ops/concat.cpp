// concat and slice along a per-sample dimension: both view their tensors as rows × columns
// (rows: the batch times the dimensions before `dim`; columns: the rest) and move blocks of
// columns with Elementwise::copy_columns, forward and backward.
#include "ops/op.hpp"

#include "vkgrad/error.hpp"
#include "vkgrad/graph/graph.hpp"

#include <numeric>

namespace vkgrad::ops {
namespace {

using graph::attr::Concat;
using graph::attr::Slice;

uint64_t product(const std::vector<uint32_t>& d, size_t from, size_t to) {
  return std::accumulate(d.begin() + std::ptrdiff_t(from), d.begin() + std::ptrdiff_t(to), uint64_t{1},
                         std::multiplies<>());
}

// Rows and columns of a per-sample tensor viewed around `dim`.
struct View {
  uint32_t rows, cols;
};
View view(const std::vector<uint32_t>& dims, uint32_t dim, uint32_t batch) {
  return {uint32_t(batch * product(dims, 0, dim)), uint32_t(product(dims, dim, dims.size()))};
}

std::vector<std::vector<uint32_t>> infer_concat(const graph::Node& n, std::span<const graph::TensorInfo* const> in) {
  const uint32_t dim = std::get<Concat>(n.attr).dim;
  if (in.size() < 2) throw Error(n.label + ": needs at least two tensors", "");
  auto out = in[0]->dims;
  for (const auto* t : in) {
    require_per_sample(n, *t, "every input");
    if (dim >= t->dims.size() || t->dims.size() != out.size())
      throw Error(n.label + ": dimension " + std::to_string(dim) + " of " + shape_string(*t) + " (inputs " +
                      shape_string(*in[0]) + ", ...)",
                  "concatenate tensors of the same rank along one of their per-sample dimensions");
    for (size_t d = 0; d < out.size(); ++d)
      if (d != dim && t->dims[d] != out[d])
        throw Error(n.label + ": " + shape_string(*t) + " and " + shape_string(*in[0]) + " differ outside dimension " +
                        std::to_string(dim),
                    "only the concatenated dimension may differ");
  }
  out[dim] = 0;
  for (const auto* t : in) out[dim] += t->dims[dim];
  return {out};
}

void concat_forward(const graph::Node& n, uint32_t, Walk& w) {
  const uint32_t dim = std::get<Concat>(n.attr).dim;
  const View out = view(w.dims(n.output()), dim, w.rows);
  uint32_t at = 0;
  for (uint32_t x : n.inputs) {
    const View v = view(w.dims(x), dim, w.rows);
    w.kernels.elementwise.copy_columns(w.rec, w.store.value(x), w.store.value(n.output()), v.rows, v.cols, 0, out.cols,
                                       at, v.cols, false);
    at += v.cols;
  }
}

void concat_backward(const graph::Node& n, uint32_t, Walk& w) {
  const uint32_t dim = std::get<Concat>(n.attr).dim;
  const View out = view(w.dims(n.output()), dim, w.rows);
  uint32_t at = 0;
  for (uint32_t x : n.inputs) {
    const View v = view(w.dims(x), dim, w.rows);
    if (w.store.requires_grad(x)) {
      const auto [dx, accumulate] = w.grad_out(x);
      w.kernels.elementwise.copy_columns(w.rec, w.store.grad(n.output()), dx, v.rows, out.cols, at, v.cols, 0, v.cols,
                                         accumulate);
    }
    at += v.cols;
  }
}

std::vector<std::vector<uint32_t>> infer_slice(const graph::Node& n, std::span<const graph::TensorInfo* const> in) {
  const auto& a = std::get<Slice>(n.attr);
  require_per_sample(n, *in[0], "the input");
  if (a.dim >= in[0]->dims.size() || a.start >= a.end || a.end > in[0]->dims[a.dim])
    throw Error(n.label + ": [" + std::to_string(a.start) + ", " + std::to_string(a.end) + ") of dimension " +
                    std::to_string(a.dim) + " of " + shape_string(*in[0]),
                "slice a non-empty range inside the dimension");
  auto out = in[0]->dims;
  out[a.dim] = a.end - a.start;
  return {out};
}

void slice_forward(const graph::Node& n, uint32_t, Walk& w) {
  const auto& a = std::get<Slice>(n.attr);
  const View x = view(w.dims(n.inputs[0]), a.dim, w.rows), y = view(w.dims(n.output()), a.dim, w.rows);
  const uint32_t tail = x.cols / w.dims(n.inputs[0])[a.dim];
  w.kernels.elementwise.copy_columns(w.rec, w.store.value(n.inputs[0]), w.store.value(n.output()), x.rows, x.cols,
                                     a.start * tail, y.cols, 0, y.cols, false);
}

void slice_backward(const graph::Node& n, uint32_t, Walk& w) {
  const auto& a = std::get<Slice>(n.attr);
  const uint32_t x = n.inputs[0];
  if (!w.store.requires_grad(x)) return;
  const View xv = view(w.dims(x), a.dim, w.rows), yv = view(w.dims(n.output()), a.dim, w.rows);
  const uint32_t tail = xv.cols / w.dims(x)[a.dim];
  const auto [dx, accumulate] = w.grad_out(x);
  if (!accumulate) w.rec.fill(dx.range, 0u);  // the columns outside the slice get no gradient
  w.kernels.elementwise.copy_columns(w.rec, w.store.grad(n.output()), dx, xv.rows, yv.cols, 0, xv.cols,
                                     a.start * tail, yv.cols, accumulate);
}

const OpUnit kConcat{"concat", infer_concat, no_saved, no_workspace, concat_forward, concat_backward};
const OpUnit kSlice{"slice", infer_slice, no_saved, no_workspace, slice_forward, slice_backward};

}  // namespace

const OpUnit& unit_for(const graph::attr::Concat&) { return kConcat; }
const OpUnit& unit_for(const graph::attr::Slice&) { return kSlice; }

}  // namespace vkgrad::ops
