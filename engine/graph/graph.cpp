#include "vkgrad/graph/graph.hpp"

#include "vkgrad/error.hpp"

#include <numeric>

namespace vkgrad::graph {
namespace {

uint64_t product(const std::vector<uint32_t>& dims) {
  return std::accumulate(dims.begin(), dims.end(), uint64_t{1}, [](uint64_t a, uint32_t b) { return a * b; });
}

}  // namespace

uint64_t TensorInfo::elements() const { return product(dims); }

std::string Graph::shape_string(const TensorInfo& t) const {
  std::string s = "[";
  if (t.role != TensorRole::Parameter) s += "batch";
  for (size_t i = 0; i < t.dims.size(); ++i) s += (i || t.role != TensorRole::Parameter ? ", " : "") + std::to_string(t.dims[i]);
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
  if (info.dims.empty() || product(info.dims) == 0)
    throw Error("tensor '" + info.name + "' needs a non-empty shape with no zero dimension", "check its dims");
  tensors_.push_back(std::move(info));
  return {uint32_t(tensors_.size() - 1)};
}

Tensor Graph::input(const std::string& name, std::vector<uint32_t> dims) {
  return add_tensor({name, TensorRole::Input, std::move(dims)});
}

Tensor Graph::labels(const std::string& name) { return add_tensor({name, TensorRole::Labels, {1}}); }

Tensor Graph::parameter(const std::string& name, std::vector<uint32_t> dims, const Init& init) {
  if (name.empty()) throw Error("a parameter needs a name", "name it as its PyTorch state_dict key (layers.0.weight)");
  return add_tensor({name, TensorRole::Parameter, std::move(dims), init});
}

Tensor Graph::add_node(Node node, std::vector<uint32_t> dims, const std::string& name) {
  TensorInfo out{name, TensorRole::Activation, std::move(dims)};
  out.producer = int32_t(nodes_.size());
  const Tensor t = add_tensor(std::move(out));
  node.output = t.id;
  nodes_.push_back(std::move(node));
  return t;
}

Tensor Graph::linear(Tensor x, uint32_t out_features, const std::string& name, kernels::Activation activation,
                     bool bias) {
  const TensorInfo& xi = checked(x, "linear");
  if (xi.dims.size() != 1)
    throw Error("linear '" + name + "': input " + shape_string(xi) + " is not [batch, features]",
                "flatten the input first");
  const uint32_t in = xi.dims[0];
  const Tensor w = parameter(name + ".weight", {out_features, in}, linear_weight_default());
  std::optional<Tensor> b;
  if (bias) b = parameter(name + ".bias", {out_features}, linear_bias_default(in));
  return linear(x, w, b, activation);
}

Tensor Graph::linear(Tensor x, Tensor weight, std::optional<Tensor> bias, kernels::Activation activation) {
  const TensorInfo& xi = checked(x, "linear");
  const TensorInfo& wi = checked(weight, "linear");
  const std::string label = "linear " + wi.name;
  if (xi.role == TensorRole::Parameter || xi.role == TensorRole::Labels)
    throw Error(label + ": the input must be an input or activation", "pass per-sample data");
  if (wi.role != TensorRole::Parameter || wi.dims.size() != 2)
    throw Error(label + ": the weight must be a [out, in] parameter, got " + shape_string(wi), "create it with parameter()");
  if (xi.dims.size() != 1 || xi.dims[0] != wi.dims[1])
    throw Error(label + ": input " + shape_string(xi) + " does not match weight " + shape_string(wi),
                "the input's last dimension must equal the weight's second (in_features)");
  Node n{OpKind::Linear, {x.id, weight.id}};
  n.label = label;
  if (bias) {
    const TensorInfo& bi = checked(*bias, "linear");
    if (bi.role != TensorRole::Parameter || bi.dims.size() != 1 || bi.dims[0] != wi.dims[0])
      throw Error(label + ": bias " + shape_string(bi) + " does not match weight " + shape_string(wi),
                  "the bias must be a parameter of shape [out_features]");
    n.inputs.push_back(bias->id);
  }
  // ReLU's derivative can be read off its output, so the GEMM epilogue applies it; other
  // activations need their input kept and run as their own op.
  const bool fuse = activation == kernels::Activation::Relu || activation == kernels::Activation::None;
  n.activation = fuse ? activation : kernels::Activation::None;
  const Tensor y = add_node(std::move(n), {wi.dims[0]}, "");
  return fuse ? y : this->activation(y, activation);
}

Tensor Graph::activation(Tensor x, kernels::Activation a) {
  switch (a) {
    case kernels::Activation::None: return x;
    case kernels::Activation::Relu: return relu(x);
    case kernels::Activation::Gelu: return gelu(x);
    case kernels::Activation::GeluTanh: return gelu_tanh(x);
  }
  return x;
}

Tensor Graph::unary(Tensor x, kernels::UnaryOp op, const char* what) {
  const TensorInfo& xi = checked(x, what);
  if (xi.role == TensorRole::Labels) throw Error(std::string(what) + ": labels are not numbers to transform", "");
  Node n{OpKind::Unary, {x.id}};
  n.unary = op;
  n.label = what;
  return add_node(std::move(n), xi.dims, "");
}

Tensor Graph::relu(Tensor x) { return unary(x, kernels::UnaryOp::Relu, "relu"); }
Tensor Graph::gelu(Tensor x) { return unary(x, kernels::UnaryOp::Gelu, "gelu"); }
Tensor Graph::gelu_tanh(Tensor x) { return unary(x, kernels::UnaryOp::GeluTanh, "gelu_tanh"); }
Tensor Graph::tanh(Tensor x) { return unary(x, kernels::UnaryOp::Tanh, "tanh"); }
Tensor Graph::sigmoid(Tensor x) { return unary(x, kernels::UnaryOp::Sigmoid, "sigmoid"); }

Tensor Graph::binary(Tensor a, Tensor b, OpKind kind, const char* what) {
  const TensorInfo& ai = checked(a, what);
  const TensorInfo& bi = checked(b, what);
  if (ai.role == TensorRole::Parameter || ai.role == TensorRole::Labels || bi.role == TensorRole::Labels)
    throw Error(std::string(what) + ": the first operand must be per-sample data, got " + shape_string(ai),
                "put the parameter second; it is broadcast over the batch");
  if (ai.dims != bi.dims)
    throw Error(std::string(what) + ": shapes " + shape_string(ai) + " and " + shape_string(bi) + " differ",
                "operands need the same per-sample shape (a parameter of that shape is broadcast over the batch)");
  Node n{kind, {a.id, b.id}};
  n.broadcast = bi.role == TensorRole::Parameter;
  n.label = what;
  return add_node(std::move(n), ai.dims, "");
}

Tensor Graph::add(Tensor a, Tensor b) { return binary(a, b, OpKind::Add, "add"); }
Tensor Graph::mul(Tensor a, Tensor b) { return binary(a, b, OpKind::Mul, "mul"); }

Tensor Graph::softmax(Tensor x) {
  const TensorInfo& xi = checked(x, "softmax");
  if (xi.role == TensorRole::Labels || xi.role == TensorRole::Parameter)
    throw Error("softmax: the input must be per-sample data", "");
  Node n{OpKind::Softmax, {x.id}};
  n.label = "softmax";
  return add_node(std::move(n), xi.dims, "");
}

Tensor Graph::reshape(Tensor x, std::vector<uint32_t> dims) {
  const TensorInfo& xi = checked(x, "reshape");
  if (xi.role == TensorRole::Labels || xi.role == TensorRole::Parameter)
    throw Error("reshape: only per-sample data can be reshaped", "");
  TensorInfo probe{"", TensorRole::Activation, dims};
  if (dims.empty() || product(dims) != xi.elements())
    throw Error("reshape: " + shape_string(xi) + " cannot become " + shape_string(probe),
                "the per-sample element count must stay the same");
  // Read before add_node: adding a tensor may move the others (xi would dangle).
  const int32_t alias = xi.alias_of >= 0 ? xi.alias_of : int32_t(x.id);
  Node n{OpKind::Reshape, {x.id}};
  n.label = "reshape";
  const Tensor y = add_node(std::move(n), std::move(dims), "");
  tensors_[y.id].alias_of = alias;
  return y;
}

Tensor Graph::flatten(Tensor x) { return reshape(x, {uint32_t(checked(x, "flatten").elements())}); }

void Graph::set_loss(kernels::LossKind kind, Tensor pred, Tensor target, const char* what) {
  const TensorInfo& pi = checked(pred, what);
  const TensorInfo& ti = checked(target, what);
  if (loss_) throw Error(std::string(what) + ": the graph already has a loss", "a graph has exactly one loss");
  if (pi.role != TensorRole::Activation || pi.dims.size() != 1)
    throw Error(std::string(what) + ": predictions " + shape_string(pi) + " must be an activation [batch, features]",
                "flatten them first");
  if (kind == kernels::LossKind::CrossEntropy) {
    if (ti.role != TensorRole::Labels)
      throw Error("cross_entropy: the target must come from labels(), got " + shape_string(ti),
                  "declare class indices with graph.labels(name)");
  } else if (ti.role != TensorRole::Input || ti.dims != pi.dims) {
    throw Error(std::string(what) + ": target " + shape_string(ti) + " must be an input shaped like the predictions " +
                    shape_string(pi),
                "declare the target with graph.input(name, dims)");
  }
  loss_ = LossSpec{kind, pred.id, target.id};
}

void Graph::cross_entropy(Tensor logits, Tensor labels) {
  set_loss(kernels::LossKind::CrossEntropy, logits, labels, "cross_entropy");
}
void Graph::mse(Tensor pred, Tensor target) { set_loss(kernels::LossKind::Mse, pred, target, "mse"); }
void Graph::l1(Tensor pred, Tensor target) { set_loss(kernels::LossKind::L1, pred, target, "l1"); }

std::vector<uint32_t> Graph::feeds() const {
  std::vector<uint32_t> out;
  for (uint32_t i = 0; i < tensors_.size(); ++i)
    if (tensors_[i].role == TensorRole::Input || tensors_[i].role == TensorRole::Labels) out.push_back(i);
  return out;
}

std::vector<uint32_t> Graph::parameters() const {
  std::vector<uint32_t> out;
  for (uint32_t i = 0; i < tensors_.size(); ++i)
    if (tensors_[i].role == TensorRole::Parameter) out.push_back(i);
  return out;
}

}  // namespace vkgrad::graph
