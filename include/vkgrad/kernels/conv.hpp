// vkgrad::kernels conv2d passes: forward, data gradient and weight gradient as implicit GEMMs
// (GemmDesc with ConvPass; the GEMM variants read the NCHW tensors in place, no im2col buffer),
// and the bias gradient as a per-channel sum (ChannelSum). Pure descriptor builders; thread-safe.
#pragma once

#include "vkgrad/kernels/gemm.hpp"

#include <optional>

namespace vkgrad::kernels {

// y [samples, groups·out, oh, ow] = conv(x [samples, groups·in, h, w], w) (+ bias per channel),
// with the GEMM epilogue's activation.
GemmDesc conv_forward(const ConvGeometry& g, uint32_t samples, const TensorRef& x, const TensorRef& weight,
                      const TensorRef& y, std::optional<TensorRef> bias = std::nullopt,
                      Activation activation = Activation::None);
// dx (+)= ∂y/∂x · dy; with accumulate, dx is added to.
GemmDesc conv_data_grad(const ConvGeometry& g, uint32_t samples, const TensorRef& weight, const TensorRef& dy,
                        const TensorRef& dx, bool accumulate);
// dweight (+)= Σ over samples and output pixels of dy ⊗ im2col(x); dweight is usually the fp32
// gradient accumulator (accumulate = true).
GemmDesc conv_weight_grad(const ConvGeometry& g, uint32_t samples, const TensorRef& dy, const TensorRef& x,
                          const TensorRef& dweight, bool accumulate);

}  // namespace vkgrad::kernels
