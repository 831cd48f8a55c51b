#include "vkgrad/kernels/conv.hpp"

namespace vkgrad::kernels {

GemmDesc conv_forward(const ConvGeometry& g, uint32_t samples, const TensorRef& x, const TensorRef& weight,
                      const TensorRef& y, std::optional<TensorRef> bias, Activation activation) {
  GemmDesc d;
  d.conv = ConvPass::Forward;
  d.geometry = g;
  d.m = g.out_channels, d.n = g.out_h() * g.out_w(), d.k = g.in_channels * g.taps();
  d.batch = samples * g.groups;
  d.a = {weight.range, weight.type};
  d.b = {x.range, x.type};
  d.c = {y.range, y.type, d.n, d.m * d.n};
  if (bias) {
    d.bias = bias->range;
    d.bias_type = bias->type;
  }
  d.activation = activation;
  return d;
}

GemmDesc conv_data_grad(const ConvGeometry& g, uint32_t samples, const TensorRef& weight, const TensorRef& dy,
                        const TensorRef& dx, bool accumulate) {
  GemmDesc d;
  d.conv = ConvPass::DataGrad;
  d.geometry = g;
  d.m = g.in_channels, d.n = g.in_h * g.in_w, d.k = g.out_channels * g.taps();
  d.batch = samples * g.groups;
  d.a = {weight.range, weight.type};
  d.b = {dy.range, dy.type};
  d.c = {dx.range, dx.type, d.n, d.m * d.n};
  d.beta = accumulate ? 1.0f : 0.0f;
  return d;
}

GemmDesc conv_weight_grad(const ConvGeometry& g, uint32_t samples, const TensorRef& dy, const TensorRef& x,
                          const TensorRef& dweight, bool accumulate) {
  GemmDesc d;
  d.conv = ConvPass::WeightGrad;
  d.geometry = g;
  d.m = g.out_channels, d.n = g.in_channels * g.taps(), d.k = samples * g.out_h() * g.out_w();
  d.batch = g.groups;
  d.a = {dy.range, dy.type};
  d.b = {x.range, x.type};
  d.c = {dweight.range, dweight.type, d.n, d.m * d.n};
  d.beta = accumulate ? 1.0f : 0.0f;
  return d;
}

}  // namespace vkgrad::kernels
