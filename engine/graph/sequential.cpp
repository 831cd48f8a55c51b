#include "vkgrad/graph/sequential.hpp"

#include <utility>

namespace vkgrad::graph {

Sequential::Sequential(Graph& graph, Tensor x, std::string prefix) : g_(graph), x_(x), prefix_(std::move(prefix)) {}

std::string Sequential::next_name() {
  const std::string name = (prefix_.empty() ? "" : prefix_ + ".") + std::to_string(index_);
  ++index_;
  return name;
}

void Sequential::flush(Activation fused) {
  if (!pending_) return;
  const Pending p = *std::exchange(pending_, std::nullopt);
  if (p.conv) {
    Conv2dOptions o = p.options;
    o.activation = fused;
    x_ = g_.conv2d(x_, p.out, p.kernel, p.name, o);
  } else {
    x_ = g_.linear(x_, p.out, p.name, fused, p.bias);
  }
}

Sequential& Sequential::linear(uint32_t out_features, bool bias) {
  flush(Activation::None);
  pending_ = Pending{false, out_features, 0, {}, bias, next_name()};
  return *this;
}

Sequential& Sequential::conv2d(uint32_t out_channels, uint32_t kernel, Conv2dOptions options) {
  flush(Activation::None);
  pending_ = Pending{true, out_channels, kernel, options, options.bias, next_name()};
  return *this;
}

Sequential& Sequential::relu() {
  const bool fuse = pending_ && pending_->options.activation == Activation::None;
  if (fuse) {
    flush(Activation::Relu);
  } else {
    flush(Activation::None);
    x_ = g_.relu(x_);
  }
  ++index_;
  return *this;
}

Sequential& Sequential::batch_norm2d(float eps, float momentum) {
  flush(Activation::None);
  x_ = g_.batch_norm2d(x_, next_name(), eps, momentum);
  return *this;
}

Sequential& Sequential::then(Tensor y) {
  x_ = y;
  ++index_;
  return *this;
}

Sequential& Sequential::gelu() {
  flush(Activation::None);
  return then(g_.gelu(x_));
}

Sequential& Sequential::tanh() {
  flush(Activation::None);
  return then(g_.tanh(x_));
}

Sequential& Sequential::sigmoid() {
  flush(Activation::None);
  return then(g_.sigmoid(x_));
}

Sequential& Sequential::max_pool2d(uint32_t kernel, uint32_t stride, uint32_t padding) {
  flush(Activation::None);
  return then(g_.max_pool2d(x_, kernel, stride, padding));
}

Sequential& Sequential::avg_pool2d(uint32_t kernel, uint32_t stride, uint32_t padding) {
  flush(Activation::None);
  return then(g_.avg_pool2d(x_, kernel, stride, padding));
}

Sequential& Sequential::adaptive_avg_pool2d(uint32_t out_h, uint32_t out_w) {
  flush(Activation::None);
  return then(g_.adaptive_avg_pool2d(x_, out_h, out_w));
}

Sequential& Sequential::flatten() {
  flush(Activation::None);
  return then(g_.flatten(x_));
}

Tensor Sequential::output() {
  flush(Activation::None);
  return x_;
}

}  // namespace vkgrad::graph
