#include "vkgrad/graph/graph.hpp"

#include "ops/op.hpp"
#include "vkgrad/error.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace vkgrad::graph {
namespace {

uint64_t product(const std::vector<uint32_t>& dims) {
  return std::accumulate(dims.begin(), dims.end(), uint64_t{1}, [](uint64_t a, uint32_t b) { return a * b; });
}

}  // namespace

uint64_t TensorInfo::elements() const { return product(dims); }

std::string shape_string(const TensorInfo& t) {
  std::string s = "[";
  const bool whole = t.role == TensorRole::Parameter || t.role == TensorRole::Buffer;
  if (!whole) s += "batch";
  for (size_t i = 0; i < t.dims.size(); ++i) s += (i || !whole ? ", " : "") + std::to_string(t.dims[i]);
  return s + "]";
}

const TensorInfo& Graph::checked(Tensor t, const char* op) const {
  if (!t.valid() || t.id >= tensors_.size())
    throw Error(std::string(op) + ": the tensor handle does not belong to this graph", "pass tensors the same Graph made");
  return tensors_[t.id];
}

const TensorInfo& Graph::info(Tensor t) const { return checked(t, "info"); }

Tensor Graph::add_tensor(TensorInfo info) {
  for (const auto& t : tensors_)
    if (!info.name.empty() && t.name == info.name)
      throw Error("a tensor named '" + info.name + "' already exists", "give every input and parameter its own name");
  const bool scalar_allowed = info.role == TensorRole::Buffer;
  if ((info.dims.empty() && !scalar_allowed) || product(info.dims) == 0)
    throw Error("tensor '" + info.name + "' needs a non-empty shape with no zero dimension", "check its dims");
  tensors_.push_back(std::move(info));
  return {uint32_t(tensors_.size() - 1)};
}

Tensor Graph::input(const std::string& name, std::vector<uint32_t> dims) {
  return add_tensor({name, TensorRole::Input, std::move(dims)});
}

void Graph::set_init(const std::string& name, const Init& init) {
  for (auto& t : tensors_)
    if (t.role == TensorRole::Parameter && t.name == name) {
      t.init = init;
      return;
    }
  throw Error("set_init: no parameter named '" + name + "'", "use a name the builders created (NAME.weight, NAME.bias)");
}

Tensor Graph::labels(const std::string& name, std::vector<uint32_t> dims) {
  if (dims.empty() || std::find(dims.begin(), dims.end(), 0u) != dims.end())
    throw Error("labels '" + name + "': every per-sample dimension must be at least 1",
                "use {1} for a class label per sample, {positions} for token ids");
  return add_tensor({name, TensorRole::Labels, std::move(dims)});
}

Tensor Graph::parameter(const std::string& name, std::vector<uint32_t> dims, const Init& init) {
  if (name.empty()) throw Error("a parameter needs a name", "name it as its PyTorch state_dict key (layers.0.weight)");
  return add_tensor({name, TensorRole::Parameter, std::move(dims), init});
}

Tensor Graph::add_op(OpAttr attr, std::vector<Tensor> inputs, std::string label) {
  Node node{std::move(attr), {}, {}, std::move(label)};
  std::vector<const TensorInfo*> infos;
  for (Tensor t : inputs) {
    infos.push_back(&checked(t, node.label.c_str()));
    node.inputs.push_back(t.id);
  }
  auto shapes = ops::unit(node.attr).infer(node, infos);
  // A view shares its input's memory (that input's own base, when it is a view too).
  const bool view = std::holds_alternative<attr::Reshape>(node.attr);
  const int32_t alias = view ? (infos[0]->alias_of >= 0 ? infos[0]->alias_of : int32_t(node.inputs[0])) : -1;
  for (auto& dims : shapes) {
    TensorInfo out{"", TensorRole::Activation, std::move(dims)};
    out.producer = int32_t(nodes_.size());
    out.alias_of = alias;
    node.outputs.push_back(add_tensor(std::move(out)).id);
  }
  nodes_.push_back(std::move(node));
  return {nodes_.back().output()};
}

Tensor Graph::linear(Tensor x, uint32_t out_features, const std::string& name, Activation activation,
                     bool bias) {
  const TensorInfo& xi = checked(x, "linear");
  if (xi.dims.empty())
    throw Error("linear '" + name + "': input " + shape_string(xi) + " has no features", "reshape the input");
  const uint32_t in = xi.dims.back();
  const Tensor w = parameter(name + ".weight", {out_features, in}, linear_weight_default());
  std::optional<Tensor> b;
  if (bias) b = parameter(name + ".bias", {out_features}, linear_bias_default(in));
  return linear(x, w, b, activation);
}

Tensor Graph::linear(Tensor x, Tensor weight, std::optional<Tensor> bias, Activation activation) {
  std::vector<Tensor> inputs{x, weight};
  if (bias) inputs.push_back(*bias);
  // ReLU's derivative can be read off its output, so the GEMM epilogue applies it; other
  // activations need their input kept and run as their own op.
  const bool fuse = activation == Activation::Relu || activation == Activation::None;
  const Tensor y = add_op(attr::Linear{fuse ? activation : Activation::None}, std::move(inputs),
                          "linear " + checked(weight, "linear").name);
  return fuse ? y : this->activation(y, activation);
}

Tensor Graph::conv2d(Tensor x, uint32_t out_channels, uint32_t kernel, const std::string& name,
                     const Conv2dOptions& o) {
  const TensorInfo& xi = checked(x, "conv2d");
  if (xi.dims.size() != 3 || o.groups == 0 || xi.dims[0] % o.groups)
    throw Error("conv2d '" + name + "': input " + shape_string(xi) + " is not [batch, channels, h, w] with channels " +
                    "divisible by " + std::to_string(o.groups) + " groups",
                "reshape the input, or fix groups");
  const uint32_t in = xi.dims[0] / o.groups;
  const Tensor w = parameter(name + ".weight", {out_channels, in, kernel, kernel}, linear_weight_default());
  std::optional<Tensor> b;
  if (o.bias) b = parameter(name + ".bias", {out_channels}, linear_bias_default(in * kernel * kernel));
  attr::Conv2d a;
  a.stride_h = a.stride_w = o.stride;
  a.pad_h = a.pad_w = o.padding;
  a.dilation_h = a.dilation_w = o.dilation;
  a.groups = o.groups;
  const bool fuse = o.activation == Activation::Relu || o.activation == Activation::None;
  a.activation = fuse ? o.activation : Activation::None;
  const Tensor y = conv2d(x, w, b, a);
  return fuse ? y : activation(y, o.activation);
}

Tensor Graph::conv2d(Tensor x, Tensor weight, std::optional<Tensor> bias, const attr::Conv2d& options) {
  std::vector<Tensor> inputs{x, weight};
  if (bias) inputs.push_back(*bias);
  return add_op(options, std::move(inputs), "conv2d " + checked(weight, "conv2d").name);
}

Tensor Graph::batch_norm2d(Tensor x, const std::string& name, float eps, float momentum) {
  const TensorInfo& xi = checked(x, "batch_norm2d");
  if (xi.dims.size() != 3)
    throw Error("batch_norm2d '" + name + "': input " + shape_string(xi) + " is not [batch, channels, h, w]",
                "reshape the input");
  const uint32_t c = xi.dims[0];
  const Init ones{.kind = InitKind::Ones};
  const Tensor w = parameter(name + ".weight", {c}, ones);
  const Tensor b = parameter(name + ".bias", {c}, {});
  const Tensor mean = buffer(name + ".running_mean", {c}, {});
  const Tensor var = buffer(name + ".running_var", {c}, ones);
  const Tensor count = buffer(name + ".num_batches_tracked", {}, {}, true);
  return add_op(attr::BatchNorm2d{eps, momentum}, {x, w, b, mean, var, count}, "batch_norm2d " + name);
}

Tensor Graph::embedding(Tensor ids, uint32_t vocab, uint32_t dim, const std::string& name, const Init& init) {
  checked(ids, "embedding");
  if (vocab == 0 || dim == 0)
    throw Error("embedding '" + name + "': a vocabulary of " + std::to_string(vocab) + " and " + std::to_string(dim) +
                    " features",
                "use at least one token and one feature");
  const Tensor w = parameter(name + ".weight", {vocab, dim}, init);
  return add_op(attr::Embedding{}, {ids, w}, "embedding " + name);
}

Tensor Graph::transpose(Tensor x, int dim0, int dim1) {
  const auto rank = int(checked(x, "transpose").dims.size());
  const auto resolve = [&](int d) { return d < 0 ? d + rank : d; };
  const int a = std::min(resolve(dim0), resolve(dim1)), b = std::max(resolve(dim0), resolve(dim1));
  if (a < 0 || b >= rank || a == b)
    throw Error("transpose: dimensions " + std::to_string(dim0) + " and " + std::to_string(dim1) + " of " +
                    shape_string(checked(x, "transpose")),
                "name two distinct per-sample dimensions (negative counts from the end)");
  return add_op(attr::Transpose{uint32_t(a), uint32_t(b)}, {x}, "transpose");
}

Tensor Graph::causal_self_attention(Tensor x, uint32_t heads, const std::string& name, AttentionImpl impl) {
  const auto dims = checked(x, "causal_self_attention").dims;
  if (dims.size() != 2 || heads == 0 || dims[1] % heads != 0)
    throw Error("causal_self_attention '" + name + "': input " + shape_string(checked(x, "")) + " with " +
                    std::to_string(heads) + " heads",
                "pass [batch, T, dim] with dim divisible by the number of heads");
  const uint32_t t = dims[0], d = dims[1], hd = d / heads;
  const Tensor qkv = linear(x, 3 * d, name + ".c_attn");
  const bool fusable = hd % 2 == 0 && hd <= kernels::AttentionShape::kMaxHeadDim;
  if (impl == AttentionImpl::Fused || (impl == AttentionImpl::Auto && fusable))
    return linear(attention(qkv, heads, true), d, name + ".c_proj");
  const Tensor q = split_heads(qkv, heads, hd, 0), k = split_heads(qkv, heads, hd, d),
               v = split_heads(qkv, heads, hd, 2 * d);
  const Tensor att = softmax(matmul(q, k, true, 1.0f / std::sqrt(float(hd))), true);
  const Tensor y = reshape(transpose(matmul(att, v), 0, 1), {t, d});
  return linear(y, d, name + ".c_proj");
}

std::string_view attention_impl_name(AttentionImpl impl) {
  return impl == AttentionImpl::Fused ? "fused" : impl == AttentionImpl::Composed ? "composed" : "auto";
}

std::optional<AttentionImpl> attention_impl_from_name(std::string_view name) {
  for (const auto impl : {AttentionImpl::Auto, AttentionImpl::Fused, AttentionImpl::Composed})
    if (attention_impl_name(impl) == name) return impl;
  return std::nullopt;
}

Tensor Graph::attention(Tensor qkv, uint32_t heads, bool causal) {
  const auto& dims = checked(qkv, "attention").dims;
  const uint32_t head_dim = dims.size() == 2 && heads != 0 ? dims[1] / (3 * heads) : 0;
  return add_op(attr::Attention{heads, causal, head_dim ? 1.0f / std::sqrt(float(head_dim)) : 1.0f}, {qkv},
                "attention");
}

Tensor Graph::dropout(Tensor x, float p) {
  if (p == 0.0f) return x;
  return add_op(attr::Dropout{p}, {x}, "dropout");
}

Tensor Graph::split_heads(Tensor x, uint32_t heads, uint32_t head_dim, uint32_t offset) {
  return add_op(attr::SplitHeads{heads, head_dim, offset}, {x}, "split_heads");
}

Tensor Graph::matmul(Tensor a, Tensor b, bool transpose_b, float scale) {
  return add_op(attr::MatMul{transpose_b, scale}, {a, b}, "matmul");
}

Tensor Graph::layer_norm(Tensor x, const std::string& name, float eps) {
  const TensorInfo& xi = checked(x, "layer_norm");
  if (xi.dims.empty())
    throw Error("layer_norm '" + name + "': input " + shape_string(xi) + " has no dimension to normalize",
                "reshape the input");
  const uint32_t d = xi.dims.back();
  const Tensor w = parameter(name + ".weight", {d}, {.kind = InitKind::Ones});
  const Tensor b = parameter(name + ".bias", {d}, {});
  return add_op(attr::LayerNorm{eps}, {x, w, b}, "layer_norm " + name);
}

Tensor Graph::fourier_features(Tensor x, uint32_t frequencies, float sigma, const std::string& name) {
  const TensorInfo& xi = checked(x, "fourier_features");
  if (xi.dims.size() != 1 || frequencies == 0 || !(sigma > 0.0f))
    throw Error("fourier_features '" + name + "': input " + shape_string(xi) + ", " + std::to_string(frequencies) +
                    " frequencies, sigma " + std::to_string(sigma),
                "encode [batch, coordinates] inputs with at least one frequency and sigma > 0");
  const uint32_t in = xi.dims[0];
  const Tensor b = buffer(name + ".B", {frequencies, in}, {.kind = InitKind::Normal, .a = 0, .b = sigma});
  return add_op(attr::FourierFeatures{}, {x, b}, "fourier_features " + name);
}

Tensor Graph::hash_grid(Tensor x, const std::string& name, const attr::HashGrid& options, float init) {
  const TensorInfo& xi = checked(x, "hash_grid");
  if (xi.dims.size() != 1 || xi.dims[0] < 1 || xi.dims[0] > 3 || !(init >= 0.0f))
    throw Error("hash_grid '" + name + "': input " + shape_string(xi) + ", init " + std::to_string(init),
                "encode [batch, 1 to 3] coordinates with a table initialized from U(-init, init), init >= 0");
  const auto& o = options;
  const auto levels = kernels::hash_grid_levels({xi.dims[0], o.levels, o.features, o.log2_table_size,
                                                 o.base_resolution, o.growth});
  const Tensor table = parameter(name + ".params", {kernels::hash_grid_entries(levels), o.features},
                                 {.kind = InitKind::Uniform, .a = -double(init), .b = double(init)});
  return add_op(options, {x, table}, "hash_grid " + name);
}

namespace {

attr::Pool2d pool_attr(PoolKind kind, uint32_t kernel, uint32_t stride, uint32_t padding) {
  attr::Pool2d a;
  a.kind = kind;
  a.kernel_h = a.kernel_w = kernel;
  a.stride_h = a.stride_w = stride ? stride : kernel;
  a.pad_h = a.pad_w = padding;
  return a;
}

}  // namespace

Tensor Graph::max_pool2d(Tensor x, uint32_t kernel, uint32_t stride, uint32_t padding) {
  return add_op(pool_attr(PoolKind::Max, kernel, stride, padding), {x}, "max_pool2d");
}

Tensor Graph::avg_pool2d(Tensor x, uint32_t kernel, uint32_t stride, uint32_t padding) {
  return add_op(pool_attr(PoolKind::Average, kernel, stride, padding), {x}, "avg_pool2d");
}

Tensor Graph::adaptive_avg_pool2d(Tensor x, uint32_t out_h, uint32_t out_w) {
  attr::Pool2d a;
  a.kind = PoolKind::Average;
  a.adaptive = true;
  a.out_h = out_h, a.out_w = out_w;
  return add_op(a, {x}, "adaptive_avg_pool2d");
}

Tensor Graph::activation(Tensor x, Activation a) {
  switch (a) {
    case Activation::None: return x;
    case Activation::Relu: return relu(x);
    case Activation::Gelu: return gelu(x);
    case Activation::GeluTanh: return gelu_tanh(x);
  }
  return x;
}

Tensor Graph::unary(Tensor x, UnaryFn fn, const char* what) { return add_op(attr::Unary{fn}, {x}, what); }

Tensor Graph::relu(Tensor x) { return unary(x, UnaryFn::Relu, "relu"); }
Tensor Graph::gelu(Tensor x) { return unary(x, UnaryFn::Gelu, "gelu"); }
Tensor Graph::gelu_tanh(Tensor x) { return unary(x, UnaryFn::GeluTanh, "gelu_tanh"); }
Tensor Graph::tanh(Tensor x) { return unary(x, UnaryFn::Tanh, "tanh"); }
Tensor Graph::sigmoid(Tensor x) { return unary(x, UnaryFn::Sigmoid, "sigmoid"); }
Tensor Graph::sin(Tensor x) { return unary(x, UnaryFn::Sin, "sin"); }
Tensor Graph::cos(Tensor x) { return unary(x, UnaryFn::Cos, "cos"); }

Tensor Graph::add(Tensor a, Tensor b) {
  return add_op(attr::Add{checked(b, "add").role == TensorRole::Parameter}, {a, b}, "add");
}

Tensor Graph::mul(Tensor a, Tensor b) {
  return add_op(attr::Mul{checked(b, "mul").role == TensorRole::Parameter}, {a, b}, "mul");
}

Tensor Graph::softmax(Tensor x, bool causal) { return add_op(attr::Softmax{causal}, {x}, "softmax"); }

namespace {

// A per-sample dimension index, negative ones counting from the end.
uint32_t dimension(int dim, size_t rank, const char* op) {
  const int64_t d = dim < 0 ? int64_t(rank) + dim : dim;
  if (d < 0 || d >= int64_t(rank))
    throw Error(std::string(op) + ": dimension " + std::to_string(dim) + " of a tensor with " + std::to_string(rank) +
                    " per-sample dimensions",
                "use 0.." + std::to_string(int64_t(rank) - 1) + " or -1..-" + std::to_string(rank));
  return uint32_t(d);
}

}  // namespace

Tensor Graph::concat(const std::vector<Tensor>& xs, int dim) {
  if (xs.empty()) throw Error("concat of no tensors", "pass at least two");
  const uint32_t d = dimension(dim, checked(xs[0], "concat").dims.size(), "concat");
  return add_op(attr::Concat{d}, xs, "concat");
}

Tensor Graph::slice(Tensor x, int dim, uint32_t start, uint32_t end) {
  const uint32_t d = dimension(dim, checked(x, "slice").dims.size(), "slice");
  return add_op(attr::Slice{d, start, end}, {x}, "slice");
}

Tensor Graph::mean(Tensor x, int dim) {
  const uint32_t d = dimension(dim, checked(x, "mean").dims.size(), "mean");
  return add_op(attr::Mean{d}, {x}, "mean");
}

Tensor Graph::reshape(Tensor x, std::vector<uint32_t> dims) {
  return add_op(attr::Reshape{std::move(dims)}, {x}, "reshape");
}

Tensor Graph::flatten(Tensor x) { return reshape(x, {uint32_t(checked(x, "flatten").elements())}); }

void Graph::set_loss(LossKind kind, Tensor pred, Tensor target, const char* what) {
  const TensorInfo& pi = checked(pred, what);
  const TensorInfo& ti = checked(target, what);
  if (loss_) throw Error(std::string(what) + ": the graph already has a loss", "a graph has exactly one loss");
  if (kind == LossKind::CrossEntropy) {
    // Logits [classes] with a label per sample, or [positions..., classes] with labels [positions...].
    auto per_position = ti.dims;
    if (!pi.dims.empty()) per_position.push_back(pi.dims.back());
    if (pi.role != TensorRole::Activation || ti.role != TensorRole::Labels ||
        (pi.dims.size() != 1 && per_position != pi.dims) || (pi.dims.size() == 1 && ti.dims != std::vector<uint32_t>{1}))
      throw Error("cross_entropy: logits " + shape_string(pi) + " and target " + shape_string(ti) + " do not match",
                  "pass logits [batch, classes] with labels(name), or [batch, positions, classes] with "
                  "labels(name, {positions})");
  } else if (pi.role != TensorRole::Activation || pi.dims.size() != 1) {
    throw Error(std::string(what) + ": predictions " + shape_string(pi) + " must be an activation [batch, features]",
                "flatten them first");
  } else if (ti.role != TensorRole::Input || ti.dims != pi.dims) {
    throw Error(std::string(what) + ": target " + shape_string(ti) + " must be an input shaped like the predictions " +
                    shape_string(pi),
                "declare the target with graph.input(name, dims)");
  }
  loss_ = LossSpec{kind, pred.id, target.id};
}

void Graph::cross_entropy(Tensor logits, Tensor labels) {
  set_loss(LossKind::CrossEntropy, logits, labels, "cross_entropy");
}
void Graph::mse(Tensor pred, Tensor target) { set_loss(LossKind::Mse, pred, target, "mse"); }
void Graph::l1(Tensor pred, Tensor target) { set_loss(LossKind::L1, pred, target, "l1"); }

std::vector<uint32_t> Graph::feeds() const {
  std::vector<uint32_t> out;
  for (uint32_t i = 0; i < tensors_.size(); ++i)
    if (tensors_[i].role == TensorRole::Input || tensors_[i].role == TensorRole::Labels) out.push_back(i);
  return out;
}

Tensor Graph::buffer(const std::string& name, std::vector<uint32_t> dims, const Init& init, bool integer) {
  if (name.empty()) throw Error("a buffer needs a name", "name it as its PyTorch state_dict key (bn.running_mean)");
  TensorInfo info{name, TensorRole::Buffer, std::move(dims), init};
  info.integer = integer;
  return add_tensor(std::move(info));
}

std::vector<uint32_t> Graph::buffers() const {
  std::vector<uint32_t> out;
  for (uint32_t i = 0; i < tensors_.size(); ++i)
    if (tensors_[i].role == TensorRole::Buffer) out.push_back(i);
  return out;
}

std::vector<uint32_t> Graph::parameters() const {
  std::vector<uint32_t> out;
  for (uint32_t i = 0; i < tensors_.size(); ++i)
    if (tensors_[i].role == TensorRole::Parameter) out.push_back(i);
  return out;
}

}  // namespace vkgrad::graph
