#include "reference/conv.hpp"

#include <cmath>
#include <functional>

namespace vkgrad::reference {
namespace {

// Calls f(n, g, co, oh, ow, ci, kh, kw, ih, iw) for every multiply of the convolution whose
// input tap is inside the image.
void each_term(const ConvShape& s, const std::function<void(size_t y, size_t x, size_t w)>& f) {
  const uint32_t oh_n = s.out_h(), ow_n = s.out_w();
  for (uint32_t n = 0; n < s.samples; ++n)
    for (uint32_t g = 0; g < s.groups; ++g)
      for (uint32_t co = 0; co < s.out_channels; ++co)
        for (uint32_t oh = 0; oh < oh_n; ++oh)
          for (uint32_t ow = 0; ow < ow_n; ++ow)
            for (uint32_t ci = 0; ci < s.in_channels; ++ci)
              for (uint32_t kh = 0; kh < s.kh; ++kh)
                for (uint32_t kw = 0; kw < s.kw; ++kw) {
                  const int64_t ih = int64_t(oh) * s.stride_h + int64_t(kh) * s.dilation_h - s.pad_h;
                  const int64_t iw = int64_t(ow) * s.stride_w + int64_t(kw) * s.dilation_w - s.pad_w;
                  if (ih < 0 || iw < 0 || ih >= s.h || iw >= s.w) continue;
                  const size_t oc = size_t(g) * s.out_channels + co, ic = size_t(g) * s.in_channels + ci;
                  const size_t y = ((size_t(n) * s.groups * s.out_channels + oc) * oh_n + oh) * ow_n + ow;
                  const size_t x = ((size_t(n) * s.groups * s.in_channels + ic) * s.h + size_t(ih)) * s.w + size_t(iw);
                  const size_t w = ((oc * s.in_channels + ci) * s.kh + kh) * s.kw + kw;
                  f(y, x, w);
                }
}

}  // namespace

ConvResult conv_forward(const ConvShape& s, std::span<const double> x, std::span<const double> w,
                        std::span<const double> bias) {
  ConvResult r{std::vector<double>(s.output_size(), 0.0), std::vector<double>(s.output_size(), 0.0)};
  each_term(s, [&](size_t yi, size_t xi, size_t wi) {
    r.value[yi] += w[wi] * x[xi];
    r.magnitude[yi] += std::abs(w[wi] * x[xi]);
  });
  if (!bias.empty()) {
    const size_t pixels = size_t(s.out_h()) * s.out_w(), channels = size_t(s.groups) * s.out_channels;
    for (size_t i = 0; i < r.value.size(); ++i) {
      r.value[i] += bias[(i / pixels) % channels];
      r.magnitude[i] += std::abs(bias[(i / pixels) % channels]);
    }
  }
  return r;
}

ConvResult conv_data_grad(const ConvShape& s, std::span<const double> w, std::span<const double> dy) {
  ConvResult r{std::vector<double>(s.input_size(), 0.0), std::vector<double>(s.input_size(), 0.0)};
  each_term(s, [&](size_t yi, size_t xi, size_t wi) {
    r.value[xi] += w[wi] * dy[yi];
    r.magnitude[xi] += std::abs(w[wi] * dy[yi]);
  });
  return r;
}

ConvResult conv_weight_grad(const ConvShape& s, std::span<const double> dy, std::span<const double> x) {
  ConvResult r{std::vector<double>(s.weight_size(), 0.0), std::vector<double>(s.weight_size(), 0.0)};
  each_term(s, [&](size_t yi, size_t xi, size_t wi) {
    r.value[wi] += dy[yi] * x[xi];
    r.magnitude[wi] += std::abs(dy[yi] * x[xi]);
  });
  return r;
}

}  // namespace vkgrad::reference
