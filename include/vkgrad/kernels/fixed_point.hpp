// The accumulator of a deterministic fixed-point scatter (shaders/common/fixed_point.glsl), which
// kernels::HashGrid and kernels::Embedding use for their table gradients: 8 bytes per element
// (a 64-bit sum in 2^-32 units), then the overflow word. Zero before the first use; the kernels
// clear the overflow word before each scatter and leave the sums zero after converting them.
#pragma once

#include <cstdint>

namespace vkgrad::kernels {

inline uint64_t fixed_point_accum_bytes(uint64_t elements) { return 8 * elements + 4; }

}  // namespace vkgrad::kernels
