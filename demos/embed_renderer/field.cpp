#include "field.hpp"

#include "vkgrad/kernels/hash_grid.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace field {

using namespace vkgrad;

graph::Graph model() {
  graph::attr::HashGrid grid{.levels = 12, .features = 2, .log2_table_size = 15, .base_resolution = 8};
  grid.growth = kernels::hash_grid_growth(grid.base_resolution, kResolution, grid.levels);
  graph::Graph g;
  auto h = g.hash_grid(g.input("xy", {2}), "encoding", grid);
  for (int l = 0; l < 2; ++l) h = g.linear(h, 64, "layers." + std::to_string(l), graph::Activation::Relu);
  g.mse(g.sigmoid(g.linear(h, 3, "layers.2")), g.input("rgb", {3}));
  return g;
}

train::TrainingState zero_state(const graph::Graph& graph) {
  train::TrainingState state;
  for (uint32_t p : graph.parameters()) {
    const auto& t = graph.tensors()[p];
    auto& out = state.tensors[t.name];
    out.shape.assign(t.dims.begin(), t.dims.end());
    out.values.assign(t.elements(), 0.0f);
  }
  return state;
}

std::vector<float> pixel_centres(uint32_t resolution) {
  std::vector<float> xy(size_t(resolution) * resolution * 2);
  for (uint32_t i = 0; i < resolution; ++i)
    for (uint32_t j = 0; j < resolution; ++j) {
      xy[(size_t(i) * resolution + j) * 2] = (float(j) + 0.5f) / float(resolution);
      xy[(size_t(i) * resolution + j) * 2 + 1] = (float(i) + 0.5f) / float(resolution);
    }
  return xy;
}

std::vector<float> procedural_picture(uint32_t resolution) {
  const double two_pi = 2 * std::numbers::pi;
  std::vector<float> rgb(size_t(resolution) * resolution * 3);
  for (uint32_t i = 0; i < resolution; ++i)
    for (uint32_t j = 0; j < resolution; ++j) {
      const double x = (j + 0.5) / resolution, y = (i + 0.5) / resolution;
      const double r = std::hypot(x - 0.45, y - 0.55);
      const double rings = 0.5 + 0.5 * std::cos(two_pi * 40.0 * r * r);
      double c[3] = {0.25 + 0.6 * x, 0.2 + 0.6 * (1 - y), 0.35 + 0.5 * rings};
      for (double& v : c) v = 0.35 * v + 0.65 * v * rings;
      if (x > 0.6 && y < 0.4 && (int(x * 24) + int(y * 24)) % 2 == 0) c[0] = c[1] = c[2] = 0.92;
      for (int k = 0; k < 3; ++k) rgb[(size_t(i) * resolution + j) * 3 + k] = float(std::clamp(c[k], 0.0, 1.0));
    }
  return rgb;
}

double psnr(const std::vector<float>& a, const std::vector<float>& b) {
  double sum = 0;
  for (size_t i = 0; i < a.size(); ++i) sum += (double(a[i]) - b[i]) * (double(a[i]) - b[i]);
  return -10.0 * std::log10(std::max(sum / double(a.size()), 1e-20));
}

}  // namespace field
