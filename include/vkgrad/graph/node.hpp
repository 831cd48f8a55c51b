// The parts of a static graph: tensors (TensorInfo), ops (Node: inputs, outputs and one typed
// attribute per op family) and the loss. A Node says what is computed; how it is recorded lives
// in the op's unit under engine/ops. Plain values; thread-safe.
#pragma once

#include "vkgrad/graph/init.hpp"

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace vkgrad::graph {

enum class TensorRole {
  Input,      // per-sample float data fed by each batch
  Labels,     // per-sample int32 indices fed by each batch (class labels, token ids)
  Parameter,  // trained; FP32 master, FP16 working copy under mixed precision
  Activation, // computed by an op
  Buffer,     // persistent FP32 state that ops update, not trained (batch norm's running statistics)
};

struct TensorInfo {
  std::string name;
  TensorRole role = TensorRole::Activation;
  std::vector<uint32_t> dims;  // per-sample dims (inputs, activations) or the full shape (parameters, buffers)
  Init init;                   // parameters and buffers
  bool integer = false;        // buffers: a count, exported as int64 (held in fp32, exact to 2^24)
  int32_t producer = -1;       // node index; -1 for inputs and parameters
  int32_t alias_of = -1;       // reshape: the tensor whose memory this one views
  uint64_t elements() const;   // per sample, or in total for a parameter
};

// "[batch, 512]" for per-sample tensors, "[10, 100]" for parameters: for error messages.
std::string shape_string(const TensorInfo& t);

// An activation a layer applies to its output; Relu (and None) fuse into a linear layer.
enum class Activation : uint32_t { None, Relu, Gelu, GeluTanh };
// Pointwise functions with a backward (GELU in PyTorch's exact and tanh forms).
enum class UnaryFn : uint32_t { Relu, Gelu, GeluTanh, Tanh, Sigmoid, Sin, Cos };
enum class LossKind : uint32_t { CrossEntropy, Mse, L1 };
enum class PoolKind : uint32_t { Max, Average };

// One attribute struct per op family; the struct's type is the op's kind.
namespace attr {
struct Linear {  // inputs: x [batch, in], weight [out, in], optional bias [out]
  Activation activation = Activation::None;  // None or Relu (applied in the GEMM's epilogue)
};
struct Add {  // inputs: a, b (same per-sample shape, or b a parameter broadcast over the batch)
  bool broadcast = false;
};
struct Mul {  // as Add
  bool broadcast = false;
};
struct Unary {
  UnaryFn fn = UnaryFn::Relu;
};
struct Softmax {  // over the last dimension
  bool causal = false;  // scores [..., T, T]: row i keeps columns j ≤ i, the rest become 0
};
// inputs: x [in, h, w], weight [out, in / groups, kh, kw] (PyTorch's layout), optional bias [out]
struct Conv2d {
  uint32_t stride_h = 1, stride_w = 1;
  uint32_t pad_h = 0, pad_w = 0;
  uint32_t dilation_h = 1, dilation_w = 1;
  uint32_t groups = 1;
  Activation activation = Activation::None;  // None or Relu (applied in the GEMM's epilogue)
};
struct Pool2d {  // input [channels, h, w]
  PoolKind kind = PoolKind::Max;
  uint32_t kernel_h = 1, kernel_w = 1;
  uint32_t stride_h = 1, stride_w = 1;
  uint32_t pad_h = 0, pad_w = 0;
  bool adaptive = false;  // average over adaptive windows giving out_h × out_w
  uint32_t out_h = 1, out_w = 1;
};
// inputs: x [channels, h, w], weight [channels], bias [channels], and the buffers running_mean
// [channels], running_var [channels], num_batches_tracked []
struct BatchNorm2d {
  float eps = 1e-5f;
  float momentum = 0.1f;
};
// inputs: a [..., m, k], b [..., k, n] (transpose_b: [..., n, k]) with equal leading dims;
// output [..., m, n] = scale · a · op(b), a GEMM per leading index
struct MatMul {
  bool transpose_b = false;
  float scale = 1.0f;
};
// inputs: ids (labels [positions...]), weight [vocab, dim]; output [positions..., dim]
struct Embedding {};
// inputs: x [..., dim], weight [dim], bias [dim]; normalizes over the last dimension
struct LayerNorm {
  float eps = 1e-5f;
};
struct Concat {  // inputs: two or more, equal per-sample dims except `dim`
  uint32_t dim = 0;  // per-sample dimension
};
struct Slice {  // elements [start, end) of per-sample dimension `dim`
  uint32_t dim = 0, start = 0, end = 0;
};
struct Mean {  // over per-sample dimension `dim`, which goes away
  uint32_t dim = 0;
};
// inputs: x, an input() of coordinates [in], and the buffer B [frequencies, in] (fixed Gaussian
// draws); output [2·frequencies] = [sin(2πBx), cos(2πBx)]
struct FourierFeatures {};
// inputs: x, an input() of coordinates [dims] in [0, 1] (1 to 3), and the table parameter
// [entries, features]; output [levels·features]: Instant-NGP's multi-resolution hash encoding
// (kernels::HashGrid), resolution_l = floor(base_resolution · growth^l).
struct HashGrid {
  uint32_t levels = 16;
  uint32_t features = 2;  // per level
  uint32_t log2_table_size = 19;  // entries per level at most
  uint32_t base_resolution = 16;
  float growth = 1.5f;
};
struct Transpose {  // per-sample dimensions dim0 < dim1 swapped (a copy)
  uint32_t dim0 = 0, dim1 = 1;
};
struct Dropout {  // training: zero with probability p, scale the rest by 1/(1 − p); evaluation: copy
  float p = 0.0f;
};
// input x [T, width]; output [heads, T, head_dim] = columns [offset, offset + heads·head_dim)
// of x viewed as [T, heads, head_dim], transposed (attention heads out of a fused QKV projection)
struct SplitHeads {
  uint32_t heads = 1, head_dim = 1, offset = 0;
};
// input qkv [T, 3·heads·head_dim] (q, k, v side by side, GPT-2's c_attn output); outputs
// y [T, heads·head_dim] = softmax(scale·q·kᵀ, causal)·v per head, fused (kernels::Attention: no
// T×T matrix), and each row's log-sum-exp [heads, T, 2] for the backward: fp32 values in
// activation-typed elements (of either width, two per value, as the kernel reads them).
struct Attention {
  uint32_t heads = 1;
  bool causal = true;
  float scale = 1.0f;
};
struct Reshape {  // a view: the output shares its input's memory
  std::vector<uint32_t> dims;  // the new per-sample shape, same element count
};
}  // namespace attr

using OpAttr = std::variant<attr::Linear, attr::Add, attr::Mul, attr::Unary, attr::Softmax, attr::Reshape,
                            attr::Conv2d, attr::Pool2d, attr::BatchNorm2d, attr::Concat, attr::Slice, attr::Mean,
                            attr::FourierFeatures, attr::HashGrid, attr::LayerNorm, attr::Embedding, attr::MatMul, attr::Transpose, attr::SplitHeads, attr::Dropout,
                            attr::Attention>;

struct Node {
  OpAttr attr;
  std::vector<uint32_t> inputs;   // tensor ids, in the order the op's attribute documents
  std::vector<uint32_t> outputs;  // tensor ids; outputs[0] is the op's result
  std::string label;              // "linear layers.0", for errors and timings
  uint32_t output() const { return outputs.front(); }
};

struct LossSpec {
  LossKind kind = LossKind::CrossEntropy;
  uint32_t pred = 0;
  uint32_t target = 0;
};

}  // namespace vkgrad::graph
