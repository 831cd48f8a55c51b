// A trained network as GLSL that a host's own shaders (fragment, compute, any stage) include to
// evaluate it: one self-contained include that defines prefix_eval(in float x[PREFIX_IN], out
// float y[PREFIX_OUT]) (PREFIX: the prefix in capitals), with the weights in a storage buffer
// the host binds at PREFIX_SET / PREFIX_BINDING and fills with `weights`.
//
//   #version 460
//   #extension GL_GOOGLE_include_directive : require  // glslang's #include
//   #extension GL_EXT_shader_16bit_storage : require  // FP16 weights (the default)
//   #define NET_SET 0                                 // where the weights buffer is bound
//   #define NET_BINDING 3                             // (defaults 0 and 0)
//   #include "net.glsl"
//   ...  float y[NET_OUT]; net_eval(x, y);
//
// Exports the chain a neural field uses: the graph's one float input, then Gaussian Fourier
// features or a multi-resolution hash encoding, linear layers (ReLU fused or not) and
// pointwise activations (ReLU, GELU, GELU-tanh, tanh, sigmoid, sin, cos), up to its loss's
// predictions; anything else is an Error naming the op. Arithmetic is FP32 with vkgrad's own
// activation and hash-grid GLSL (the same as its kernels); Fourier frequencies and hash-grid
// levels are exact constants in the source, the hash table lives with the weights.
// Pure function; thread-safe.
#pragma once

#include "vkgrad/graph/graph.hpp"
#include "vkgrad/train/trainer.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace vkgrad::io {

struct GlslExportOptions {
  std::string prefix = "net";  // names: net_eval, net_w, NET_IN, NET_OUT, NET_SET, NET_BINDING
  bool fp16 = true;            // weights as FP16 (needs storageBuffer16BitAccess), else FP32
};

struct GlslExport {
  std::string source;              // the include
  std::vector<std::byte> weights;  // the storage buffer's contents, little-endian
  uint32_t inputs = 0, outputs = 0;
  uint64_t weight_count = 0;       // values in `weights`
};

// From the graph and its trained values (Trainer::save_state, io::load_parameters).
GlslExport export_glsl(const graph::Graph& graph, const train::TrainingState& state,
                       const GlslExportOptions& options = {});

}  // namespace vkgrad::io
