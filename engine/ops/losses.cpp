#include "ops/losses.hpp"

#include "vkgrad/error.hpp"
#include "vkgrad/graph/graph.hpp"

namespace vkgrad::ops {
namespace {

kernels::LossKind kernel_kind(graph::LossKind k) {
  switch (k) {
    case graph::LossKind::CrossEntropy: return kernels::LossKind::CrossEntropy;
    case graph::LossKind::Mse: return kernels::LossKind::Mse;
    case graph::LossKind::L1: return kernels::LossKind::L1;
  }
  throw Error("unknown loss kind", "report this as a vkgrad bug");
}

// The loss's columns per row.
uint32_t loss_cols(const graph::LossSpec& spec, const Walk& w) {
  return spec.kind == graph::LossKind::CrossEntropy ? w.dims(spec.pred).back() : w.features(spec.pred);
}

}  // namespace

uint32_t loss_rows_per_sample(const graph::LossSpec& spec, const graph::Graph& graph) {
  return spec.kind == graph::LossKind::CrossEntropy ? uint32_t(graph.tensors()[spec.target].elements()) : 1;
}

void loss_forward(const graph::LossSpec& spec, Walk& w, const LossBuffers& b) {
  const auto kind = kernel_kind(spec.kind);
  const uint32_t cols = loss_cols(spec, w), positions = loss_rows_per_sample(spec, w.graph);
  w.kernels.loss.forward(w.rec, kind, w.store.value(spec.pred), b.target, b.params, b.row_loss, w.rows * positions,
                         cols, positions);
  w.kernels.loss.mean(w.rec, kind, b.row_loss, b.params, b.mean, w.rows * positions, cols, positions);
}

void loss_backward(const graph::LossSpec& spec, Walk& w, const LossBuffers& b) {
  const auto dpred = w.grad_out(spec.pred).ref;
  const uint32_t positions = loss_rows_per_sample(spec, w.graph);
  w.kernels.loss.backward(w.rec, kernel_kind(spec.kind), w.store.value(spec.pred), b.target, b.params, dpred,
                          w.rows * positions, loss_cols(spec, w), positions);
}

}  // namespace vkgrad::ops
