// Float64 CPU reference for 2-D pooling over NCHW planes with PyTorch's semantics (max with
// the first maximum of the window winning and NaN propagating; average with count_include_pad;
// adaptive windows), the gradients written as scatters from each output, and the per-channel
// sum.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace vkgrad::reference {

struct PoolShape {
  bool max = true;
  uint32_t planes = 1, h = 1, w = 1;
  uint32_t kh = 1, kw = 1, sh = 1, sw = 1, ph = 0, pw = 0;
  bool adaptive = false;
  uint32_t adaptive_h = 1, adaptive_w = 1;
  uint32_t out_h() const { return adaptive ? adaptive_h : (h + 2 * ph - kh) / sh + 1; }
  uint32_t out_w() const { return adaptive ? adaptive_w : (w + 2 * pw - kw) / sw + 1; }
};

std::vector<double> pool_forward(const PoolShape& s, std::span<const double> x);
// dx = Σ over outputs of dy routed to the argmax (max) or spread over the window / count.
std::vector<double> pool_backward(const PoolShape& s, std::span<const double> x, std::span<const double> dy);

// sums[c] = Σ_n Σ_p x[n][c][p]; magnitude = Σ|x|.
std::vector<double> channel_sum(std::span<const double> x, uint32_t samples, uint32_t channels, uint32_t pixels,
                                std::vector<double>* magnitude = nullptr);

}  // namespace vkgrad::reference
