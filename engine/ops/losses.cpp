#include "ops/losses.hpp"

#include "vkgrad/error.hpp"

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

}  // namespace

void loss_forward(const graph::LossSpec& spec, Walk& w, const LossBuffers& b) {
  const auto kind = kernel_kind(spec.kind);
  const uint32_t cols = w.features(spec.pred);
  w.kernels.loss.forward(w.rec, kind, w.store.value(spec.pred), b.target, b.params, b.row_loss, w.rows, cols);
  w.kernels.loss.mean(w.rec, kind, b.row_loss, b.params, b.mean, w.rows, cols);
}

void loss_backward(const graph::LossSpec& spec, Walk& w, const LossBuffers& b) {
  const auto dpred = w.grad_out(spec.pred).ref;
  w.kernels.loss.backward(w.rec, kernel_kind(spec.kind), w.store.value(spec.pred), b.target, b.params, dpred,
                          w.rows, w.features(spec.pred));
}

}  // namespace vkgrad::ops
