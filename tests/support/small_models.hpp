// Small graphs several train tests share, among them each demo's architecture at test sizes.
// Pure functions; thread-safe.
#pragma once

#include "vkgrad/graph/gpt.hpp"
#include "vkgrad/graph/graph.hpp"
#include "vkgrad/graph/sequential.hpp"

#include <string>

namespace vkgrad::test {

// x [4] → linear "a" 8 (ReLU) → linear "b" 2, MSE against y [2].
inline graph::Graph small_mse_mlp() {
  graph::Graph g;
  const auto x = g.input("x", {4});
  const auto y = g.input("y", {2});
  g.mse(g.linear(g.linear(x, 8, "a", graph::Activation::Relu), 2, "b"), y);
  return g;
}

// fashion_mnist's CNN on 8×8 images: conv 4, ReLU, max pool, conv 8, ReLU, max pool, fc 16,
// ReLU, fc 10, cross-entropy.
inline graph::Graph small_fashion_cnn() {
  graph::Graph g;
  const auto x = g.input("x", {1, 8, 8});
  const auto y = g.labels("y");
  graph::Sequential features(g, x, "features");
  features.conv2d(4, 3, {.padding = 1}).relu().max_pool2d(2).conv2d(8, 3, {.padding = 1}).relu().max_pool2d(2);
  graph::Sequential classifier(g, features.output(), "classifier");
  g.cross_entropy(classifier.flatten().linear(16).relu().linear(10).output(), y);
  return g;
}

// char_transformer's GPT: vocabulary 16, context 8, one block of width 16 with 2 heads.
inline graph::Graph small_char_gpt() { return graph::gpt({.vocab = 16, .context = 8, .layers = 1, .dim = 16, .heads = 2}); }

// neural_image's and embed_renderer's field: 2-D coordinates through a hash grid (4 levels,
// table 2^8), two 16-wide ReLU layers, 3 outputs through a sigmoid, MSE.
inline graph::Graph small_hash_grid_field() {
  graph::Graph g;
  auto h = g.hash_grid(g.input("xy", {2}), "encoding", {.levels = 4, .log2_table_size = 8, .base_resolution = 4});
  for (int l = 0; l < 2; ++l) h = g.linear(h, 16, "layers." + std::to_string(l), graph::Activation::Relu);
  g.mse(g.sigmoid(g.linear(h, 3, "layers.2")), g.input("rgb", {3}));
  return g;
}

}  // namespace vkgrad::test
