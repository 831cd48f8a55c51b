// vkgrad::graph::Graph — a model as a static graph: inputs, parameters, ops and one loss.
//
// Built once, then compiled by a Trainer; shapes are checked as each op is added, and a bad
// shape throws Error naming the op and both shapes. Activations carry an implicit leading
// batch dimension: input("x", {784}) is [batch, 784]; parameters have their full shape.
// Owns only descriptions (no device memory). Not thread-safe; build it on one thread.
#pragma once

#include "vkgrad/graph/node.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vkgrad::graph {

// How causal_self_attention computes softmax(q·kᵀ/√d)·v: one fused flash-style op (memory
// linear in T), or batched matmuls around a causal softmax (the T×T scores in memory; the
// reference the fused one is tested against). Auto: fused where it takes the head dim (even, up
// to kernels::AttentionShape::kMaxHeadDim), composed otherwise.
enum class AttentionImpl { Auto, Fused, Composed };
std::string_view attention_impl_name(AttentionImpl impl);  // "auto", "fused", "composed"
std::optional<AttentionImpl> attention_impl_from_name(std::string_view name);

// A handle to a tensor of one Graph.
struct Tensor {
  uint32_t id = UINT32_MAX;
  bool valid() const { return id != UINT32_MAX; }
};

// nn.Conv2d's options (square kernels; pass attr::Conv2d to the second conv2d for others).
struct Conv2dOptions {
  uint32_t stride = 1, padding = 0, dilation = 1, groups = 1;
  bool bias = true;
  Activation activation = Activation::None;  // Relu fuses into the GEMM; others run as their own op
};

class Graph {
public:
  Tensor input(const std::string& name, std::vector<uint32_t> dims);
  // Per-sample int32 indices fed with each batch: a class label per sample (dims {1}, the
  // default), or token ids ({positions}) for embedding().
  Tensor labels(const std::string& name, std::vector<uint32_t> dims = {1});
  Tensor parameter(const std::string& name, std::vector<uint32_t> dims, const Init& init);
  // Replaces how the parameter called `name` is initialized (e.g. GPT-2's N(0, 0.02) for layers
  // a builder created with PyTorch's defaults). Throws Error for an unknown name.
  void set_init(const std::string& name, const Init& init);
  // A persistent, untrained tensor that ops update (PyTorch's register_buffer); dims may be
  // empty for a scalar.
  Tensor buffer(const std::string& name, std::vector<uint32_t> dims, const Init& init, bool integer = false);

  // nn.Linear(in, out): creates NAME.weight [out, in] and NAME.bias [out] with PyTorch's
  // default initialization. `activation` (None, Relu, Gelu, GeluTanh): Relu fuses into the GEMM,
  // the GELUs run as a separate op after it.
  Tensor linear(Tensor x, uint32_t out_features, const std::string& name,
                Activation activation = Activation::None, bool bias = true);
  // y = x·weightᵀ + bias with given parameters (weight [out, in], bias [out]).
  Tensor linear(Tensor x, Tensor weight, std::optional<Tensor> bias,
                Activation activation = Activation::None);
  // nn.Conv2d(in, out, kernel): x is [batch, in, h, w]; creates NAME.weight [out, in / groups,
  // kernel, kernel] and NAME.bias [out] with PyTorch's default initialization.
  Tensor conv2d(Tensor x, uint32_t out_channels, uint32_t kernel, const std::string& name,
                const Conv2dOptions& options = {});
  // With given parameters (weight [out, in / groups, kh, kw], bias [out]).
  Tensor conv2d(Tensor x, Tensor weight, std::optional<Tensor> bias, const attr::Conv2d& options);
  // nn.MaxPool2d / nn.AvgPool2d (count_include_pad) over [batch, c, h, w]; stride 0 = kernel.
  Tensor max_pool2d(Tensor x, uint32_t kernel, uint32_t stride = 0, uint32_t padding = 0);
  Tensor avg_pool2d(Tensor x, uint32_t kernel, uint32_t stride = 0, uint32_t padding = 0);
  // nn.AdaptiveAvgPool2d((out_h, out_w)); global average pooling is 1×1.
  Tensor adaptive_avg_pool2d(Tensor x, uint32_t out_h, uint32_t out_w);
  // nn.BatchNorm2d(channels, eps, momentum) over [batch, channels, h, w]: NAME.weight (ones),
  // NAME.bias (zeros) and the buffers NAME.running_mean, NAME.running_var, NAME.num_batches_tracked.
  // Batch statistics while training, running statistics in evaluation (Trainer::evaluate).
  Tensor batch_norm2d(Tensor x, const std::string& name, float eps = 1e-5f, float momentum = 0.1f);
  // nn.Embedding(vocab, dim) of ids (labels() [positions]): [positions, dim], the table
  // NAME.weight [vocab, dim] drawn from N(0, 1) as PyTorch's default (or `init`). Gradients of
  // repeated ids sum deterministically.
  Tensor embedding(Tensor ids, uint32_t vocab, uint32_t dim, const std::string& name,
                   const Init& init = {.kind = InitKind::Normal, .a = 0, .b = 1});
  // Causal multi-head self-attention over x [T, dim] (GPT-2's CausalSelfAttention): NAME.c_attn
  // (dim → 3·dim: q, k, v), `heads` heads of dim / heads, softmax(q·kᵀ/√d, causal)·v, and NAME.c_proj
  // (dim → dim). The attention itself as `impl` says.
  Tensor causal_self_attention(Tensor x, uint32_t heads, const std::string& name,
                               AttentionImpl impl = AttentionImpl::Auto);
  // Fused multi-head attention of qkv [T, 3·dim] (q, k, v side by side, heads of dim / heads
  // within each): [T, dim] = softmax(q·kᵀ/√head_dim, causal)·v per head, in fp32 inside.
  Tensor attention(Tensor qkv, uint32_t heads, bool causal = true);
  // nn.LayerNorm(x.dims.back()): over the last dimension, with NAME.weight (ones) and NAME.bias
  // (zeros); FP32 statistics.
  Tensor layer_norm(Tensor x, const std::string& name, float eps = 1e-5f);
  // Gaussian Fourier features of coordinates x (an input() [in]): [sin(2πBx), cos(2πBx)] with
  // B [frequencies, in] drawn from N(0, sigma²) once (the buffer NAME.B), computed in fp32.
  Tensor fourier_features(Tensor x, uint32_t frequencies, float sigma, const std::string& name);
  // Instant-NGP's multi-resolution hash encoding of coordinates x (an input() [dims] in [0, 1],
  // 1 to 3 of them): [levels·features]. Its table is the parameter NAME.params [entries,
  // features] (the levels' entries in all, as kernels::hash_grid_levels counts them), drawn from
  // U(−init, init); kernels::hash_grid_growth gives the growth that reaches a finest resolution.
  Tensor hash_grid(Tensor x, const std::string& name, const attr::HashGrid& options = {}, float init = 1e-4f);
  Tensor add(Tensor a, Tensor b);  // b: same per-sample shape, or a parameter of that shape (broadcast)
  Tensor mul(Tensor a, Tensor b);
  Tensor relu(Tensor x);
  Tensor gelu(Tensor x);       // exact erf form
  Tensor gelu_tanh(Tensor x);  // tanh approximation
  Tensor tanh(Tensor x);
  Tensor sigmoid(Tensor x);
  Tensor sin(Tensor x);  // accurate for |x| up to ~4·10^5 (the argument is reduced first)
  Tensor cos(Tensor x);
  Tensor activation(Tensor x, Activation a);
  // Over the last dimension; `causal` for attention scores [..., T, T] (query i sees keys j ≤ i).
  Tensor softmax(Tensor x, bool causal = false);
  // nn.Dropout(p): a mask drawn from (the trainer's seed, this node, the step) by Philox, so the
  // backward recomputes it; evaluation copies. p = 0 adds nothing and returns x.
  Tensor dropout(Tensor x, float p);
  // scale · a · b (transpose_b: a · bᵀ) over the last two dimensions, batched over the leading
  // ones (torch.matmul of per-sample tensors with equal leading dims).
  Tensor matmul(Tensor a, Tensor b, bool transpose_b = false, float scale = 1.0f);
  // Per-sample dimensions count from 0, or from the end when negative (-1: the last).
  Tensor concat(const std::vector<Tensor>& xs, int dim = -1);        // torch.cat
  Tensor slice(Tensor x, int dim, uint32_t start, uint32_t end);     // x[..., start:end, ...]
  Tensor mean(Tensor x, int dim);                                    // the dimension goes away
  Tensor reshape(Tensor x, std::vector<uint32_t> dims);  // per-sample dims; same element count
  Tensor transpose(Tensor x, int dim0, int dim1);        // torch.transpose over per-sample dims (a copy)
  // x [T, width] → [heads, T, head_dim]: x[:, offset:offset + heads·head_dim].view(T, heads,
  // head_dim).transpose(0, 1), in one copy (q, k and v out of a fused projection).
  Tensor split_heads(Tensor x, uint32_t heads, uint32_t head_dim, uint32_t offset);
  Tensor flatten(Tensor x);

  // The loss, mean over the batch as PyTorch's reduction='mean'. Exactly one per graph.
  void cross_entropy(Tensor logits, Tensor labels);  // logits [batch, classes], labels from labels()
  void mse(Tensor pred, Tensor target);
  void l1(Tensor pred, Tensor target);

  const std::vector<TensorInfo>& tensors() const { return tensors_; }
  const TensorInfo& info(Tensor t) const;
  const std::vector<Node>& nodes() const { return nodes_; }
  // The tensor whose memory tensor `t` uses: the viewed one for a view (reshape), else t.
  uint32_t base(uint32_t t) const {
    return tensors_[t].alias_of >= 0 ? uint32_t(tensors_[t].alias_of) : t;
  }
  const std::optional<LossSpec>& loss() const { return loss_; }
  // Inputs and labels in declaration order: the order Batch::tensors follows.
  std::vector<uint32_t> feeds() const;
  std::vector<uint32_t> parameters() const;
  std::vector<uint32_t> buffers() const;

private:
  Tensor add_tensor(TensorInfo info);
  // Checks the inputs, asks the op's unit for the output shape and appends the node.
  Tensor add_op(OpAttr attr, std::vector<Tensor> inputs, std::string label);
  Tensor unary(Tensor x, UnaryFn fn, const char* what);
  void set_loss(LossKind kind, Tensor pred, Tensor target, const char* what);
  const TensorInfo& checked(Tensor t, const char* op) const;

  std::vector<TensorInfo> tensors_;
  std::vector<Node> nodes_;
  std::optional<LossSpec> loss_;
};

}  // namespace vkgrad::graph
