#include "reference/philox.hpp"

namespace vkgrad::reference {

std::array<uint32_t, 4> philox4x32_10(std::array<uint32_t, 4> c, std::array<uint32_t, 2> k) {
  for (int round = 0; round < 10; ++round) {
    const uint64_t p0 = uint64_t(0xD2511F53u) * c[0], p1 = uint64_t(0xCD9E8D57u) * c[2];
    c = {uint32_t(p1 >> 32) ^ c[1] ^ k[0], uint32_t(p1), uint32_t(p0 >> 32) ^ c[3] ^ k[1], uint32_t(p0)};
    k = {k[0] + 0x9E3779B9u, k[1] + 0xBB67AE85u};
  }
  return c;
}

std::vector<bool> dropout_keep(uint32_t n, float p, uint64_t seed, uint32_t salt, uint32_t iteration,
                               uint32_t micro_batch) {
  std::vector<bool> keep(n);
  for (uint32_t i = 0; i < n; ++i) {
    const auto r = philox4x32_10({i / 4, iteration, micro_batch, salt}, {uint32_t(seed), uint32_t(seed >> 32)});
    keep[i] = double(r[i % 4] >> 8) * 0x1p-24 >= double(p);
  }
  return keep;
}

}  // namespace vkgrad::reference
