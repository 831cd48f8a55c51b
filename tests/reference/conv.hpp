// Float64 CPU reference for 2-D convolution (NCHW, PyTorch's weight layout [groups·out, in,
// kh, kw]): forward, data gradient and weight gradient written as the textbook loops, with the
// Σ|terms| each output's rounding error scales with.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace vkgrad::reference {

struct ConvShape {
  uint32_t samples = 1, groups = 1;
  uint32_t in_channels = 1, out_channels = 1;  // per group
  uint32_t h = 1, w = 1, kh = 1, kw = 1;
  uint32_t stride_h = 1, stride_w = 1, pad_h = 0, pad_w = 0, dilation_h = 1, dilation_w = 1;
  uint32_t out_h() const { return (h + 2 * pad_h - dilation_h * (kh - 1) - 1) / stride_h + 1; }
  uint32_t out_w() const { return (w + 2 * pad_w - dilation_w * (kw - 1) - 1) / stride_w + 1; }
  size_t input_size() const { return size_t(samples) * groups * in_channels * h * w; }
  size_t output_size() const { return size_t(samples) * groups * out_channels * out_h() * out_w(); }
  size_t weight_size() const { return size_t(groups) * out_channels * in_channels * kh * kw; }
};

struct ConvResult {
  std::vector<double> value;
  std::vector<double> magnitude;  // Σ|terms| per element
};

// y = conv(x, w) + bias (bias empty or one per output channel).
ConvResult conv_forward(const ConvShape& s, std::span<const double> x, std::span<const double> w,
                        std::span<const double> bias);
// dx = Σ over output pixels and channels of w · dy.
ConvResult conv_data_grad(const ConvShape& s, std::span<const double> w, std::span<const double> dy);
// dw = Σ over samples and output pixels of dy · x.
ConvResult conv_weight_grad(const ConvShape& s, std::span<const double> dy, std::span<const double> x);

}  // namespace vkgrad::reference
