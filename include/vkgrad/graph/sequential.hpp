// vkgrad::graph::Sequential — builds a chain of layers the way torch.nn.Sequential reads:
//
//   Sequential features(g, x, "features");
//   features.conv2d(32, 3, {.padding = 1}).relu().max_pool2d(2);  // features.0.weight, ...
//   Tensor h = features.output();
//
// Every layer takes an index as PyTorch numbers the modules (activations, pooling and flatten
// count too), so parameter names match the twin's state_dict: PREFIX.INDEX.weight. A ReLU right
// after a linear or convolution layer is fused into it (the GEMM's epilogue), keeping its index.
// Adds to the Graph as it goes; not thread-safe (as Graph).
#pragma once

#include "vkgrad/graph/graph.hpp"

#include <optional>
#include <string>

namespace vkgrad::graph {

class Sequential {
public:
  // Layers apply to x; prefix "" names parameters "0.weight", ...
  Sequential(Graph& graph, Tensor x, std::string prefix = "");

  Sequential& linear(uint32_t out_features, bool bias = true);
  Sequential& conv2d(uint32_t out_channels, uint32_t kernel, Conv2dOptions options = {});
  Sequential& batch_norm2d(float eps = 1e-5f, float momentum = 0.1f);
  Sequential& relu();
  Sequential& gelu();
  Sequential& tanh();
  Sequential& sigmoid();
  Sequential& max_pool2d(uint32_t kernel, uint32_t stride = 0, uint32_t padding = 0);
  Sequential& avg_pool2d(uint32_t kernel, uint32_t stride = 0, uint32_t padding = 0);
  Sequential& adaptive_avg_pool2d(uint32_t out_h, uint32_t out_w);
  Sequential& flatten();

  // The chain's result so far.
  Tensor output();

private:
  // A linear or convolution layer waits until the next call, which may fuse a ReLU into it.
  struct Pending {
    bool conv = false;
    uint32_t out = 0, kernel = 0;
    Conv2dOptions options;
    bool bias = true;
    std::string name;
  };
  void flush(Activation fused);
  Sequential& then(Tensor y);  // the chain continues from y, one module further
  std::string next_name();  // PREFIX.INDEX for the next module

  Graph& g_;
  Tensor x_;
  std::string prefix_;
  uint32_t index_ = 0;
  std::optional<Pending> pending_;
};

}  // namespace vkgrad::graph
