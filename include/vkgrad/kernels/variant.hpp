// Kernel variant selection: pure functions of the device's capabilities (only *enabled*
// features count), unit-tested on made-up capability tables. Stateless; thread-safe.
#pragma once

#include "vkgrad/vk/caps.hpp"

#include <cstdint>
#include <optional>

namespace vkgrad::kernels {

// How the training computes: `Mixed` stores weight copies and activations in fp16, but for a
// transformer's residual stream (embeddings, residual adds, layer-norm inputs), kept fp32 as
// PyTorch's autocast keeps it (ops::activation_types).
enum class Precision { Mixed, Fp32 };

// Invocations of a workgroup that reduces rows of `length` elements (shaders/common/
// workgroup_reduce.glsl): the power of two covering the row, at least a subgroup, at most 256;
// on a CPU device one subgroup (its barriers are costly there).
uint32_t reduce_workgroup_size(const vk::Caps& caps, uint32_t length);

// The cooperative-matrix tile for fp16·fp16→fp32 GEMMs and the subgroup size to pin it at.
struct CoopmatChoice {
  vk::CoopmatShape shape;
  uint32_t subgroup_size = 0;
};
// nullopt unless cooperativeMatrix is enabled and the device lists a subgroup-scope shape with
// A, B = float16 and C, Result = float32. Among those, the largest M·N·K (most work per
// instruction), ties broken by the smaller K. The subgroup size is the smallest the device
// allows when subgroup-size control is enabled (wave32 on AMD, SIMD8/16 on Intel, where their
// matrix units are specified), else the default one.
std::optional<CoopmatChoice> select_coopmat(const vk::Caps& caps);

// The flexible-dimension granularity for fp16·fp16→fp32 NV cooperative-matrix-2 GEMMs at
// subgroup scope, and the subgroup size (as select_coopmat). nullopt unless the Coopmat2
// feature is enabled and such a shape is listed; the smallest granularity wins.
struct Coopmat2Choice {
  vk::FlexibleCoopmatShape shape;
  uint32_t subgroup_size = 0;
};
std::optional<Coopmat2Choice> select_coopmat2(const vk::Caps& caps);

}  // namespace vkgrad::kernels
