// Host twin of shaders/common/philox.glsl and of dropout's mask (kernels::Dropout): Philox4x32-10
// as Random123 defines it, and which elements a dropout step keeps.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

namespace vkgrad::reference {

std::array<uint32_t, 4> philox4x32_10(std::array<uint32_t, 4> ctr, std::array<uint32_t, 2> key);

// keep[i] for n elements: Philox word i mod 4 of counter (i / 4, iteration, micro_batch, salt)
// under key = seed, as a 24-bit uniform in [0, 1), compared with p.
std::vector<bool> dropout_keep(uint32_t n, float p, uint64_t seed, uint32_t salt, uint32_t iteration,
                               uint32_t micro_batch);

}  // namespace vkgrad::reference
