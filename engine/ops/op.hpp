// Op units: everything the engine knows about one op family, in one place — shape inference,
// what its backward reads (saved tensors, which drive the activations' lifetimes), its backward
// scratch, its forward recording and its backward rule. Nothing outside engine/ops switches on
// op kinds: the graph asks an op's unit for shapes, the lifetime analysis for saved tensors, and
// the trainer for recordings.
//
// Adding an op: its attribute struct in include/vkgrad/graph/node.hpp (and OpAttr), its
// unit_for() declaration below, its file here, its source in CMakeLists.txt, and a Graph builder.
// Units are immutable tables; Walk is one thread's recording.
#pragma once

#include "vkgrad/graph/node.hpp"
#include "vkgrad/kernels/attention.hpp"
#include "vkgrad/kernels/batch_norm.hpp"
#include "vkgrad/kernels/channel_reduce.hpp"
#include "vkgrad/kernels/dropout.hpp"
#include "vkgrad/kernels/elementwise.hpp"
#include "vkgrad/kernels/embedding.hpp"
#include "vkgrad/kernels/encoding.hpp"
#include "vkgrad/kernels/gemm.hpp"
#include "vkgrad/kernels/hash_grid.hpp"
#include "vkgrad/kernels/layer_norm.hpp"
#include "vkgrad/kernels/loss.hpp"
#include "vkgrad/kernels/pool.hpp"
#include "vkgrad/kernels/softmax.hpp"
#include "vkgrad/kernels/tensor_ref.hpp"
#include "vkgrad/vk/recorder.hpp"

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace vkgrad::graph {
class Graph;
}

namespace vkgrad::ops {

// The kernels op units record with; one set per trainer (each caches its pipelines).
struct Kernels {
  explicit Kernels(vk::Context& ctx);
  kernels::Gemm gemm;
  kernels::Elementwise elementwise;
  kernels::Softmax softmax;
  kernels::Loss loss;
  kernels::Pool pool;
  kernels::ChannelReduce channel_reduce;
  kernels::BatchNorm batch_norm;
  kernels::Encoding encoding;
  kernels::HashGrid hash_grid;
  kernels::LayerNorm layer_norm;
  kernels::Embedding embedding;
  kernels::Dropout dropout;
  kernels::Attention attention;
  std::optional<kernels::AttentionVariant> attention_variant;  // forced; unset: the kernel's choice
};

// What an op uses a parameter input for (optimizers treat some kinds apart, e.g. no weight decay).
enum class ParamKind { Weight, Bias, Norm, Embedding };

// Device memory a node keeps for as long as its trainer, outside the model's state (never
// trained, saved or shared between nodes): constant words uploaded once (lookup tables), and
// scratch that starts zeroed and that the op leaves zeroed after each use (accumulators).
struct NodeMemory {
  std::vector<uint32_t> constants;
  uint64_t scratch_bytes = 0;
};

// Where a compiled graph keeps each tensor's value and gradient; the trainer implements it.
class TensorStore {
public:
  // Parameters: the copy forward reads (fp16 working copy under mixed precision).
  virtual kernels::TensorRef value(uint32_t tensor) const = 0;
  // Activations: in the activation type; parameters: the FP32 accumulators.
  virtual kernels::TensorRef grad(uint32_t tensor) const = 0;
  // The node's backward scratch, as large as its unit's workspace() asked.
  virtual kernels::TensorRef workspace(uint32_t node) const = 0;
  // The node's NodeMemory (its unit's memory()): the constants, and the scratch.
  virtual vk::BufferRange node_constants(uint32_t node) const = 0;
  virtual vk::BufferRange node_scratch(uint32_t node) const = 0;
  virtual bool requires_grad(uint32_t tensor) const = 0;

protected:
  ~TensorStore() = default;
};

// One walk over the graph's nodes, recording into one command buffer at a time: what op units see.
class Walk {
public:
  Walk(const graph::Graph& graph, const TensorStore& store, const Kernels& kernels, vk::Recorder& rec,
       uint32_t rows, bool training = true);
  // Continues `earlier` in another command buffer (a backward pass recorded in segments): what
  // it has written stays written.
  Walk(const Walk& earlier, vk::Recorder& rec);

  const graph::Graph& graph;
  const TensorStore& store;
  const Kernels& kernels;
  vk::Recorder& rec;
  const uint32_t rows;    // the compiled batch size
  const bool training;    // false: evaluation (batch norm uses its running statistics, nothing updates)
  vk::BufferRange step_params;  // the step's kernels::LossParams {scale, valid_rows}, on the device
  vk::BufferRange step_state;   // the whole step state (shaders/common/train_state.glsl)
  uint64_t seed = 0;            // the trainer's seed (dropout masks)

  const std::vector<uint32_t>& dims(uint32_t tensor) const;
  uint32_t features(uint32_t tensor) const;  // per-sample elements (all of them for a parameter)
  bool is_parameter(uint32_t tensor) const;

  // Backward. The gradient of an activation is written by its first contribution and added to
  // by the later ones (a parameter's, zeroed once per update, is always added to). grad_out()
  // says which, and counts the contribution as made.
  struct GradOut {
    kernels::TensorRef ref;
    bool accumulate = false;
  };
  GradOut grad_out(uint32_t tensor);
  // grad_out() where the tensor requires a gradient; nothing (and no contribution counted) else.
  std::optional<GradOut> grad_out_if_needed(uint32_t tensor);
  bool has_grad(uint32_t tensor) const;  // some contribution was made (or the loss seeded it)
  // Adds a same-shaped contribution into the gradient of a per-sample tensor (copies the first).
  void add_grad(uint32_t tensor, const kernels::TensorRef& contribution);

private:
  uint32_t base(uint32_t tensor) const;  // reshape views resolved
  std::vector<bool> written_;            // by base tensor
};

// The element type an op's output takes under mixed precision, and whether the op reads fp32
// activations. As PyTorch's autocast: embedding lookups stay fp32, pointwise ops keep the widest
// of their inputs, so a transformer's residual stream (embeddings, residual adds) and its layer
// norms' inputs stay fp32, while what GEMMs read and write is fp16. activation_types() applies it.
enum class MixedPrecision {
  Fp16,     // reads and writes the activation type (GEMMs, convolutions, attention, ...)
  Fp32In,   // reads fp32 activations, writes the activation type (layer norm)
  Widest,   // reads fp32 activations, writes the widest of its inputs' types (add, mul, unary, dropout)
  Fp32Out,  // writes fp32 (embedding lookups)
};

struct OpUnit {
  std::string_view name;
  // The output shapes for these inputs (per-sample dims, as TensorInfo::dims), or Error naming
  // node.label and the shapes.
  std::vector<std::vector<uint32_t>> (*infer)(const graph::Node& node,
                                              std::span<const graph::TensorInfo* const> inputs);
  // Tensors (inputs or outputs) the backward reads; they stay alive until it ran.
  std::vector<uint32_t> (*saved)(const graph::Node& node);
  // Per-sample elements of activation-typed scratch the backward needs (0: none).
  uint64_t (*workspace)(const graph::Node& node, const graph::Graph& graph);
  void (*forward)(const graph::Node& node, uint32_t index, Walk& walk);
  // Called when the output has a gradient; contributes to the inputs that require one.
  void (*backward)(const graph::Node& node, uint32_t index, Walk& walk);
  // Reads its input() feeds in fp32 whatever the precision (coordinates, whose low bits matter).
  bool fp32_feeds = false;
  // The node's persistent device memory; null: none.
  NodeMemory (*memory)(const graph::Node& node, const graph::Graph& graph) = nullptr;
  // What parameter input `input` is for; null: every parameter input is a Weight.
  ParamKind (*param_kind)(const graph::Node& node, size_t input) = nullptr;
  MixedPrecision precision = MixedPrecision::Fp16;
};

// Input 2 of a linear or convolution layer is its bias.
ParamKind bias_at_input_2(const graph::Node& node, size_t input);

// The table: one entry per attribute type of graph::OpAttr.
const OpUnit& unit_for(const graph::attr::Linear&);
const OpUnit& unit_for(const graph::attr::Add&);
const OpUnit& unit_for(const graph::attr::Mul&);
const OpUnit& unit_for(const graph::attr::Unary&);
const OpUnit& unit_for(const graph::attr::Softmax&);
const OpUnit& unit_for(const graph::attr::Reshape&);
const OpUnit& unit_for(const graph::attr::Conv2d&);
const OpUnit& unit_for(const graph::attr::Pool2d&);
const OpUnit& unit_for(const graph::attr::BatchNorm2d&);
const OpUnit& unit_for(const graph::attr::LayerNorm&);
const OpUnit& unit_for(const graph::attr::Embedding&);
const OpUnit& unit_for(const graph::attr::MatMul&);
const OpUnit& unit_for(const graph::attr::Transpose&);
const OpUnit& unit_for(const graph::attr::SplitHeads&);
const OpUnit& unit_for(const graph::attr::Dropout&);
const OpUnit& unit_for(const graph::attr::Attention&);
const OpUnit& unit_for(const graph::attr::Concat&);
const OpUnit& unit_for(const graph::attr::Slice&);
const OpUnit& unit_for(const graph::attr::Mean&);
const OpUnit& unit_for(const graph::attr::FourierFeatures&);
const OpUnit& unit_for(const graph::attr::HashGrid&);
const OpUnit& unit(const graph::OpAttr& attr);

// Each tensor's element type in `graph` when activations default to `activation`: with fp32 that
// is every tensor; with fp16 the units' MixedPrecision rules, where a value that some op without
// fp32 inputs reads falls back to fp16 (the loss reads either). Parameters are their working
// copies' type and feeds `activation` here (the trainer keeps some fp32: labels, coordinates).
// Views (reshape) have their base's type. Pure; thread-safe.
std::vector<kernels::ElemType> activation_types(const graph::Graph& graph, kernels::ElemType activation);

// Helpers op units share.
std::vector<uint32_t> no_saved(const graph::Node&);
uint64_t no_workspace(const graph::Node&, const graph::Graph&);
// A weighted layer (linear, conv) with an optional fused ReLU: its weight gradient reads the
// input, the ReLU's derivative is read off the output ([y > 0]), and the gated gradient needs
// scratch the output's size.
std::vector<uint32_t> layer_saved(const graph::Node& node, bool fused_relu);
uint64_t layer_workspace(const graph::Node& node, const graph::Graph& graph, bool fused_relu);
// Throws unless the input is per-sample float data (an input or an activation).
void require_per_sample(const graph::Node& node, const graph::TensorInfo& t, const char* what);

}  // namespace vkgrad::ops
