// Small graphs several train tests share. Pure functions; thread-safe.
#pragma once

#include "vkgrad/graph/graph.hpp"

namespace vkgrad::test {

// x [4] → linear "a" 8 (ReLU) → linear "b" 2, MSE against y [2].
inline graph::Graph small_mse_mlp() {
  graph::Graph g;
  const auto x = g.input("x", {4});
  const auto y = g.input("y", {2});
  g.mse(g.linear(g.linear(x, 8, "a", graph::Activation::Relu), 2, "b"), y);
  return g;
}

}  // namespace vkgrad::test
