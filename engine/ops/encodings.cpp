// Encodings of input coordinates for coordinate networks: Gaussian Fourier features on
// kernels::Encoding, and the multi-resolution hash encoding on kernels::HashGrid. They encode
// input() feeds, which need no gradient: only the hash table has a backward.
#include "ops/op.hpp"

#include "vkgrad/error.hpp"
#include "vkgrad/graph/graph.hpp"

namespace vkgrad::ops {
namespace {

std::vector<std::vector<uint32_t>> fourier_infer(const graph::Node& n, std::span<const graph::TensorInfo* const> in) {
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

// The coordinates as the encoding reads them: fp32.
vk::BufferRange coordinates(const graph::Node& n, const Walk& w) {
  const auto x = w.store.value(n.inputs[0]);
  if (x.type != kernels::ElemType::F32)
    throw Error(n.label + ": its coordinates also feed other layers, which read them in fp16 under mixed precision",
                "feed the coordinates to the encoding alone (declare a second input for the other layers)");
  return x.range;
}

void fourier_forward(const graph::Node& n, uint32_t, Walk& w) {
  const auto& b = w.dims(n.inputs[1]);
  w.kernels.encoding.fourier(w.rec, coordinates(n, w), w.store.value(n.inputs[1]).range,
                             w.store.value(n.output()), w.rows, b[1], b[0]);
}

void no_backward(const graph::Node&, uint32_t, Walk&) {}

const OpUnit kFourier{"fourier_features", fourier_infer, no_saved, no_workspace, fourier_forward, no_backward, true};

kernels::HashGridShape grid_shape(const graph::Node& n, uint32_t dims) {
  const auto& a = std::get<graph::attr::HashGrid>(n.attr);
  return {dims, a.levels, a.features, a.log2_table_size, a.base_resolution, a.growth};
}

std::vector<std::vector<uint32_t>> grid_infer(const graph::Node& n, std::span<const graph::TensorInfo* const> in) {
  const graph::TensorInfo& x = *in[0];
  const graph::TensorInfo& table = *in[1];
  if (x.role != graph::TensorRole::Input || x.dims.size() != 1 || x.dims[0] < 1 || x.dims[0] > 3)
    throw Error(n.label + ": encodes an input() of 1 to 3 coordinates [batch, dims], got " + shape_string(x),
                "declare the coordinates with graph.input(name, {dims})");
  const auto s = grid_shape(n, x.dims[0]);
  const uint32_t entries = kernels::hash_grid_entries(kernels::hash_grid_levels(s));
  if (table.role != graph::TensorRole::Parameter || table.dims != std::vector<uint32_t>{entries, s.features})
    throw Error(n.label + ": the table " + shape_string(table) + " is not a [" + std::to_string(entries) + ", " +
                    std::to_string(s.features) + "] parameter",
                "create the encoding with Graph::hash_grid");
  return {{s.levels * s.features}};
}

// The levels table (kernels::HashGridLevel words) and the gradient's fixed-point accumulator.
NodeMemory grid_memory(const graph::Node& n, const graph::Graph& g) {
  const auto s = grid_shape(n, g.tensors()[n.inputs[0]].dims[0]);
  NodeMemory m;
  for (const auto& l : kernels::hash_grid_levels(s)) m.constants.insert(m.constants.end(), {l.resolution, l.offset, l.entries, l.dense});
  m.scratch_bytes = kernels::hash_grid_accum_bytes(s);
  return m;
}

void grid_forward(const graph::Node& n, uint32_t index, Walk& w) {
  w.kernels.hash_grid.forward(w.rec, grid_shape(n, w.dims(n.inputs[0])[0]), w.rows, coordinates(n, w),
                              w.store.node_constants(index), w.store.value(n.inputs[1]), w.store.value(n.output()));
}

void grid_backward(const graph::Node& n, uint32_t index, Walk& w) {
  w.kernels.hash_grid.backward(w.rec, grid_shape(n, w.dims(n.inputs[0])[0]), w.rows, coordinates(n, w),
                               w.store.node_constants(index), w.store.grad(n.output()), w.store.node_scratch(index),
                               w.grad_out(n.inputs[1]).ref.range);
}

// The backward reads the coordinates (feeds, which live for the whole step) and nothing else.
const OpUnit kHashGrid{"hash_grid", grid_infer,    no_saved, no_workspace, grid_forward,
                       grid_backward, true,        grid_memory};

}  // namespace

const OpUnit& unit_for(const graph::attr::FourierFeatures&) { return kFourier; }
const OpUnit& unit_for(const graph::attr::HashGrid&) { return kHashGrid; }

}  // namespace vkgrad::ops
