// The neural field embed_renderer trains and draws: pixel-centre coordinates (x, y) in [0, 1]²
// → multi-resolution hash encoding → MLP (two 64-wide ReLU layers) → sigmoid → RGB, fitted with
// MSE to a kResolution² picture. Its architecture is fixed at build time because the renderer's
// fragment shader is compiled with the network's exported GLSL (see net_main.cpp); the trained
// values travel as the exported weights buffer. Pure functions; thread-safe.
#pragma once

#include "vkgrad/graph/graph.hpp"
#include "vkgrad/train/trainer.hpp"

#include <cstdint>
#include <vector>

namespace field {

// The training picture's side and the hash grid's finest resolution.
inline constexpr uint32_t kResolution = 128;

vkgrad::graph::Graph model();

// Every parameter of `graph` at zero: what the build-time export needs (the GLSL source depends
// on shapes, never on values).
vkgrad::train::TrainingState zero_state(const vkgrad::graph::Graph& graph);

// The coordinates the field is trained and drawn at: ((j + 0.5)/R, (i + 0.5)/R) row by row.
std::vector<float> pixel_centres(uint32_t resolution);

// A picture with detail at every scale where the user gives none: rings whose frequency grows
// outwards, over a smooth colour sweep, with a checkerboard in one quadrant.
std::vector<float> procedural_picture(uint32_t resolution);

// 10·log10(1 / MSE) of two RGB pictures in [0, 1] of equal size.
double psnr(const std::vector<float>& a, const std::vector<float>& b);

}  // namespace field
