// Encodings of input coordinates for coordinate networks: Gaussian Fourier features on
// kernels::Encoding. They encode input() feeds, which need no gradient, so no backward.
#include "ops/op.hpp"

#include "vkgrad/error.hpp"
#include "vkgrad/graph/graph.hpp"

namespace vkgrad::ops {
namespace {

std::vector<std::vector<uint32_t>> infer(const graph::Node& n, std::span<const graph::TensorInfo* const> in) {
  const graph::TensorInfo& x = *in[0];
  const graph::TensorInfo& b = *in[1];
  if (x.role != graph::TensorRole::Input || x.dims.size() != 1)
    throw Error(n.label + ": encodes an input() of coordinates [batch, dims], got " + shape_string(x),
                "declare the coordinates with graph.input(name, {dims})");
  if (b.role != graph::TensorRole::Buffer || b.dims.size() != 2 || b.dims[1] != x.dims[0])
    throw Error(n.label + ": B " + shape_string(b) + " is not a [frequencies, " + std::to_string(x.dims[0]) +
                    "] buffer",
                "create the encoding with Graph::fourier_features");
  return {{2 * b.dims[0]}};
}

void forward(const graph::Node& n, uint32_t, Walk& w) {
  const auto& b = w.dims(n.inputs[1]);
  const auto x = w.store.value(n.inputs[0]);
  if (x.type != kernels::ElemType::F32)
    throw Error(n.label + ": its coordinates also feed other layers, which read them in fp16 under mixed precision",
                "feed the coordinates to the encoding alone (declare a second input for the other layers)");
  w.kernels.encoding.fourier(w.rec, x.range, w.store.value(n.inputs[1]).range,
                             w.store.value(n.output()), w.rows, b[1], b[0]);
}

void no_backward(const graph::Node&, uint32_t, Walk&) {}

const OpUnit kFourier{"fourier_features", infer, no_saved, no_workspace, forward, no_backward, true};

}  // namespace

const OpUnit& unit_for(const graph::attr::FourierFeatures&) { return kFourier; }

}  // namespace vkgrad::ops
