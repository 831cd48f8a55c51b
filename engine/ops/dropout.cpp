// nn.Dropout on kernels::Dropout: while training, elements are zeroed with probability p and the
// rest scaled by 1/(1 − p), with a mask that is a pure function of the seed, the node and the
// step, so the backward recomputes it (nothing saved); in evaluation, a copy.
#include "ops/op.hpp"

#include "vkgrad/error.hpp"
#include "vkgrad/graph/graph.hpp"

namespace vkgrad::ops {
namespace {

using graph::attr::Dropout;

std::vector<std::vector<uint32_t>> infer(const graph::Node& n, std::span<const graph::TensorInfo* const> in) {
  require_per_sample(n, *in[0], "the input");
  const float p = std::get<Dropout>(n.attr).p;
  if (!(p >= 0.0f && p < 1.0f))
    throw Error(n.label + ": p = " + std::to_string(p), "use a drop probability in [0, 1)");
  return {in[0]->dims};
}

kernels::DropoutMask mask(const graph::Node& n, uint32_t index, const Walk& w) {
  return {std::get<Dropout>(n.attr).p, w.seed, index, w.step_state};
}

void forward(const graph::Node& n, uint32_t index, Walk& w) {
  const uint32_t count = w.rows * w.features(n.output());
  if (w.training)
    w.kernels.dropout.forward(w.rec, mask(n, index, w), w.store.value(n.inputs[0]), w.store.value(n.output()), count);
  else
    w.kernels.elementwise.unary(w.rec, kernels::UnaryOp::Identity, w.store.value(n.inputs[0]),
                                w.store.value(n.output()), count);
}

void backward(const graph::Node& n, uint32_t index, Walk& w) {
  const uint32_t x = n.inputs[0];
  if (!w.store.requires_grad(x)) return;
  const auto [dx, accumulate] = w.grad_out(x);
  w.kernels.dropout.backward(w.rec, mask(n, index, w), w.store.grad(n.output()), dx, w.rows * w.features(x),
                             accumulate);
}

const OpUnit kDropout{"dropout", infer, no_saved, no_workspace, forward, backward, false, nullptr, nullptr,
                      MixedPrecision::Widest};

}  // namespace

const OpUnit& unit_for(const Dropout&) { return kDropout; }

}  // namespace vkgrad::ops
