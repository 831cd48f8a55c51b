// Pointwise ops: add and multiply (b per-sample, or a parameter broadcast over the batch) and
// the unary functions, on kernels::Elementwise.
#include "ops/op.hpp"

#include "vkgrad/error.hpp"
#include "vkgrad/graph/graph.hpp"

namespace vkgrad::ops {
namespace {

using graph::attr::Add;
using graph::attr::Mul;
using graph::attr::Unary;

std::vector<std::vector<uint32_t>> infer_binary(const graph::Node& n, std::span<const graph::TensorInfo* const> in) {
  const graph::TensorInfo& a = *in[0];
  const graph::TensorInfo& b = *in[1];
  if (a.role == graph::TensorRole::Parameter || a.role == graph::TensorRole::Labels ||
      b.role == graph::TensorRole::Labels)
    throw Error(n.label + ": the first operand must be per-sample data, got " + shape_string(a),
                "put the parameter second; it is broadcast over the batch");
  if (a.dims != b.dims)
    throw Error(n.label + ": shapes " + shape_string(a) + " and " + shape_string(b) + " differ",
                "operands need the same per-sample shape (a parameter of that shape is broadcast over the batch)");
  return {a.dims};
}

template <class Attr>
bool broadcast(const graph::Node& n) {
  return std::get<Attr>(n.attr).broadcast;
}

void forward_binary(const graph::Node& n, kernels::BinaryOp op, bool broadcast_b, Walk& w) {
  w.kernels.elementwise.binary(w.rec, op, w.store.value(n.inputs[0]), w.store.value(n.inputs[1]),
                               w.store.value(n.output()), w.rows, w.features(n.output()), broadcast_b);
}

// --- add: dy flows to both operands unchanged (a broadcast parameter gets its column sum).

void add_forward(const graph::Node& n, uint32_t, Walk& w) {
  forward_binary(n, kernels::BinaryOp::Add, broadcast<Add>(n), w);
}

void add_backward(const graph::Node& n, uint32_t, Walk& w) {
  const auto dy = w.store.grad(n.output());
  const uint32_t cols = w.features(n.output());
  if (w.store.requires_grad(n.inputs[0])) w.add_grad(n.inputs[0], dy);
  if (broadcast<Add>(n))
    w.kernels.elementwise.column_sum(w.rec, dy, w.grad_out(n.inputs[1]).ref, w.rows, cols, true);
  else if (w.store.requires_grad(n.inputs[1]))
    w.add_grad(n.inputs[1], dy);
}

// --- mul: da = dy·b, db = dy·a, through scratch.

std::vector<uint32_t> mul_saved(const graph::Node& n) { return {n.inputs[0], n.inputs[1]}; }

uint64_t mul_workspace(const graph::Node& n, const graph::Graph& g) { return g.tensors()[n.output()].elements(); }

void mul_forward(const graph::Node& n, uint32_t, Walk& w) {
  forward_binary(n, kernels::BinaryOp::Mul, broadcast<Mul>(n), w);
}

void mul_backward(const graph::Node& n, uint32_t index, Walk& w) {
  const uint32_t a = n.inputs[0], b = n.inputs[1], cols = w.features(n.output());
  const bool bc = broadcast<Mul>(n);
  const auto dy = w.store.grad(n.output());
  const auto scratch = w.store.workspace(index);
  const auto& ew = w.kernels.elementwise;
  if (w.store.requires_grad(a)) {
    ew.binary(w.rec, kernels::BinaryOp::Mul, dy, w.store.value(b), scratch, w.rows, cols, bc);
    w.add_grad(a, scratch);
  }
  if (bc) {
    ew.binary(w.rec, kernels::BinaryOp::Mul, dy, w.store.value(a), scratch, w.rows, cols, false);
    ew.column_sum(w.rec, scratch, w.grad_out(b).ref, w.rows, cols, true);
  } else if (w.store.requires_grad(b)) {
    ew.binary(w.rec, kernels::BinaryOp::Mul, dy, w.store.value(a), scratch, w.rows, cols, false);
    w.add_grad(b, scratch);
  }
}

// --- unary: dx (+)= dy·f'(x).

kernels::UnaryOp kernel_op(const graph::Node& n) {
  switch (std::get<Unary>(n.attr).fn) {
    case graph::UnaryFn::Relu: return kernels::UnaryOp::Relu;
    case graph::UnaryFn::Gelu: return kernels::UnaryOp::Gelu;
    case graph::UnaryFn::GeluTanh: return kernels::UnaryOp::GeluTanh;
    case graph::UnaryFn::Tanh: return kernels::UnaryOp::Tanh;
    case graph::UnaryFn::Sigmoid: return kernels::UnaryOp::Sigmoid;
    case graph::UnaryFn::Sin: return kernels::UnaryOp::Sin;
    case graph::UnaryFn::Cos: return kernels::UnaryOp::Cos;
  }
  throw Error(n.label + ": unknown unary function", "report this as a vkgrad bug");
}

std::vector<std::vector<uint32_t>> infer_unary(const graph::Node& n, std::span<const graph::TensorInfo* const> in) {
  if (in[0]->role == graph::TensorRole::Labels) throw Error(n.label + ": labels are not numbers to transform", "");
  return {in[0]->dims};
}

std::vector<uint32_t> unary_saved(const graph::Node& n) { return {n.inputs[0]}; }

void unary_forward(const graph::Node& n, uint32_t, Walk& w) {
  w.kernels.elementwise.unary(w.rec, kernel_op(n), w.store.value(n.inputs[0]), w.store.value(n.output()),
                              w.rows * w.features(n.output()));
}

void unary_backward(const graph::Node& n, uint32_t, Walk& w) {
  const uint32_t x = n.inputs[0];
  if (!w.store.requires_grad(x)) return;
  const auto [dx, accumulate] = w.grad_out(x);
  w.kernels.elementwise.unary_backward(w.rec, kernel_op(n), w.store.value(x), w.store.grad(n.output()), dx,
                                       w.rows * w.features(n.output()), accumulate);
}

const OpUnit kAdd{"add", infer_binary, no_saved, no_workspace, add_forward, add_backward, false, nullptr,
                  nullptr, MixedPrecision::Widest};
const OpUnit kMul{"mul", infer_binary, mul_saved, mul_workspace, mul_forward, mul_backward, false, nullptr,
                  nullptr, MixedPrecision::Widest};
const OpUnit kUnary{"unary", infer_unary, unary_saved, no_workspace, unary_forward, unary_backward, false, nullptr,
                    nullptr, MixedPrecision::Widest};

}  // namespace

const OpUnit& unit_for(const graph::attr::Add&) { return kAdd; }
const OpUnit& unit_for(const graph::attr::Mul&) { return kMul; }
const OpUnit& unit_for(const graph::attr::Unary&) { return kUnary; }

}  // namespace vkgrad::ops
