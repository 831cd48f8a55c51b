// Batched matrix products of two per-sample tensors, c = scale · a · op(b) (attention's Q·Kᵀ
// and P·V): the leading per-sample dimensions and the batch are GEMM batches, one GEMM forward
// and one per input backward, each reading the other input (both saved).
#include "ops/op.hpp"

#include "vkgrad/error.hpp"
#include "vkgrad/graph/graph.hpp"

namespace vkgrad::ops {
namespace {

using graph::attr::MatMul;

std::vector<std::vector<uint32_t>> infer(const graph::Node& n, std::span<const graph::TensorInfo* const> in) {
  const auto& a = *in[0];
  const auto& b = *in[1];
  require_per_sample(n, a, "a");
  require_per_sample(n, b, "b");
  const bool tb = std::get<MatMul>(n.attr).transpose_b;
  const size_t r = a.dims.size();
  if (r < 2 || b.dims.size() != r || !std::equal(a.dims.begin(), a.dims.end() - 2, b.dims.begin()) ||
      a.dims[r - 1] != (tb ? b.dims[r - 1] : b.dims[r - 2]))
    throw Error(n.label + ": cannot multiply " + shape_string(a) + " by " + shape_string(b) + (tb ? "ᵀ" : ""),
                "use [..., m, k] · [..., k, n] (or [..., n, k] transposed) with the same leading dimensions");
  auto out = a.dims;
  out[r - 1] = tb ? b.dims[r - 2] : b.dims[r - 1];
  return {out};
}

std::vector<uint32_t> saved(const graph::Node& n) { return n.inputs; }

struct Shape {
  uint32_t batch, m, k, n;
};

Shape shape(const graph::Node& node, const Walk& w) {
  const auto& a = w.dims(node.inputs[0]);
  const auto& c = w.dims(node.output());
  const size_t r = a.size();
  return {uint32_t(w.rows * (w.features(node.inputs[0]) / (uint64_t(a[r - 2]) * a[r - 1]))), a[r - 2], a[r - 1],
          c[r - 1]};
}

kernels::GemmOperand operand(const kernels::TensorRef& t, uint32_t rows, uint32_t cols, bool transpose) {
  return {t.range, t.type, cols, rows * cols, transpose};
}

void forward(const graph::Node& node, uint32_t, Walk& w) {
  const auto& at = std::get<MatMul>(node.attr);
  const auto [batch, m, k, n] = shape(node, w);
  kernels::GemmDesc d;
  d.m = m, d.n = n, d.k = k, d.batch = batch, d.alpha = at.scale;
  d.a = operand(w.store.value(node.inputs[0]), m, k, false);
  d.b = at.transpose_b ? operand(w.store.value(node.inputs[1]), n, k, true)
                       : operand(w.store.value(node.inputs[1]), k, n, false);
  d.c = operand(w.store.value(node.output()), m, n, false);
  w.kernels.gemm.record(w.rec, d);
}

void backward(const graph::Node& node, uint32_t, Walk& w) {
  const auto& at = std::get<MatMul>(node.attr);
  const auto [batch, m, k, n] = shape(node, w);
  const auto dc = w.store.grad(node.output());
  const uint32_t a = node.inputs[0], b = node.inputs[1];
  if (w.store.requires_grad(a)) {  // da = scale · dc · op(b)ᵀ
    const auto [da, accumulate] = w.grad_out(a);
    kernels::GemmDesc d;
    d.m = m, d.n = k, d.k = n, d.batch = batch, d.alpha = at.scale, d.beta = accumulate ? 1.0f : 0.0f;
    d.a = operand(dc, m, n, false);
    d.b = at.transpose_b ? operand(w.store.value(b), n, k, false) : operand(w.store.value(b), k, n, true);
    d.c = operand(da, m, k, false);
    w.kernels.gemm.record(w.rec, d);
  }
  if (w.store.requires_grad(b)) {  // db = scale · aᵀ · dc, or its transpose dcᵀ · a
    const auto [db, accumulate] = w.grad_out(b);
    kernels::GemmDesc d;
    d.batch = batch, d.alpha = at.scale, d.beta = accumulate ? 1.0f : 0.0f;
    if (at.transpose_b) {
      d.m = n, d.n = k, d.k = m;
      d.a = operand(dc, m, n, true);
      d.b = operand(w.store.value(a), m, k, false);
      d.c = operand(db, n, k, false);
    } else {
      d.m = k, d.n = n, d.k = m;
      d.a = operand(w.store.value(a), m, k, true);
      d.b = operand(dc, m, n, false);
      d.c = operand(db, k, n, false);
    }
    w.kernels.gemm.record(w.rec, d);
  }
}

const OpUnit kMatMul{"matmul", infer, saved, no_workspace, forward, backward};

}  // namespace

const OpUnit& unit_for(const MatMul&) { return kMatMul; }

}  // namespace vkgrad::ops
