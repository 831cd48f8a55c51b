// Convolution as implicit GEMMs (forward, data gradient, weight gradient) under every GEMM
// variant against the float64 reference: padding, stride, dilation, rectangular kernels,
// groups (depthwise included), 1×1, bias, accumulation. The reference's gradients are checked
// against central differences of its forward first.
//
// Inputs are rounded to their storage type, so the reference sees what the device sees. Error
// bound per element: fp32 accumulation of K products, (K + 4)·2^-24·Σ|terms| (K the GEMM depth:
// taps × channels, or samples × pixels for the weight gradient; +4 for β·C, bias and the final
// add), then the rounding to the output type (2^-11·|y| for fp16, 2^-24 for fp32) and its
// smallest step.
#include "device_tensor.hpp"
#include "gemm_variants.hpp"
#include "numerics.hpp"
#include "reference/conv.hpp"
#include "vk_fixture.hpp"
#include "vkgrad/error.hpp"
#include "vkgrad/kernels/conv.hpp"

#include <cmath>
#include <string>

namespace vkgrad::test {
namespace {

using kernels::ElemType;
using kernels::GemmVariant;
using vk::Feature;

kernels::ConvGeometry geometry_of(const reference::ConvShape& s) {
  kernels::ConvGeometry g;
  g.groups = s.groups, g.in_channels = s.in_channels, g.out_channels = s.out_channels;
  g.in_h = s.h, g.in_w = s.w, g.kernel_h = s.kh, g.kernel_w = s.kw;
  g.stride_h = s.stride_h, g.stride_w = s.stride_w, g.pad_h = s.pad_h, g.pad_w = s.pad_w;
  g.dilation_h = s.dilation_h, g.dilation_w = s.dilation_w;
  return g;
}

TEST(ConvReference, GradientsMatchFiniteDifferences) {
  reference::ConvShape s;
  s.samples = 2, s.groups = 2, s.in_channels = 2, s.out_channels = 3, s.h = 5, s.w = 4, s.kh = 3, s.kw = 2;
  s.stride_h = 2, s.pad_h = 1, s.pad_w = 1, s.dilation_w = 2;
  auto x = uniform(s.input_size(), -1, 1, 1);
  auto w = uniform(s.weight_size(), -1, 1, 2);
  const auto dy = uniform(s.output_size(), -1, 1, 3);
  // L = Σ dy ⊙ conv(x, w): ∂L/∂x and ∂L/∂w are the data and weight gradients.
  const auto loss = [&] {
    const auto y = reference::conv_forward(s, x, w, {}).value;
    double l = 0;
    for (size_t i = 0; i < y.size(); ++i) l += dy[i] * y[i];
    return l;
  };
  const auto check = [&](std::vector<double>& v, const std::vector<double>& grad, const char* what) {
    // L is linear in each variable: central differences are exact up to rounding (~1e-16/h).
    for (size_t i = 0; i < v.size(); ++i)
      EXPECT_NEAR(grad[i], central_difference(v, i, 1e-6, loss), 1e-8) << what << " " << i;
  };
  check(x, reference::conv_data_grad(s, w, dy).value, "dx");
  check(w, reference::conv_weight_grad(s, dy, x).value, "dw");
}


struct ConvCase {
  const char* name;
  reference::ConvShape s;
  bool bias = false;
};

class ConvTest : public VkTestWithParam<std::tuple<VariantCase, ConvCase>> {};

// Per-element tolerance of a result of GEMM depth k against the reference.
std::vector<double> tolerance(const reference::ConvResult& ref, uint64_t k, ElemType out) {
  std::vector<double> tol(ref.value.size());
  for (size_t i = 0; i < tol.size(); ++i)
    tol[i] = double(k + 4) * kEps * ref.magnitude[i] + u_out(out) * std::fabs(ref.value[i]) + tiny(out);
  return tol;
}

TEST_P(ConvTest, PassesMatchReference) {
  const auto& [variant, cc] = GetParam();
  const auto& s = cc.s;
  vk::Context& ctx = context(variant.disable);
  for (Feature f : variant.needs)
    if (!ctx.caps().enabled(f)) GTEST_SKIP() << "needs " << vk::feature_name(f);
  const ElemType t = variant.operands;
  const auto g = geometry_of(s);
  const uint32_t taps = s.kh * s.kw;

  const auto x = round_for(t, uniform(s.input_size(), -1, 1, 11));
  const auto w = round_for(t, uniform(s.weight_size(), -1, 1, 12));
  const auto dy = round_for(t, uniform(s.output_size(), -1, 1, 13));
  const auto bias = round_for(t, uniform(size_t(s.groups) * s.out_channels, -0.5, 0.5, 14));
  const auto dw0 = uniform(s.weight_size(), -1, 1, 15);  // the weight gradient accumulates onto this

  const auto dx_ = make_tensor(ctx, x, x.size(), t, "x");
  const auto dw_ = make_tensor(ctx, w, w.size(), t, "w");
  const auto ddy = make_tensor(ctx, dy, dy.size(), t, "dy");
  const auto dbias = make_tensor(ctx, bias, bias.size(), t, "bias");
  const auto dgw = make_tensor(ctx, dw0, dw0.size(), ElemType::F32, "dW");
  const auto y = make_tensor(ctx, {}, s.output_size(), t, "y");    // NaN: β = 0 must not read it
  const auto dxo = make_tensor(ctx, {}, s.input_size(), t, "dx");
  const kernels::Gemm gemm(ctx);
  run(ctx, [&](vk::Recorder& rec) {
    gemm.record(rec,
                kernels::conv_forward(g, s.samples, dx_.ref(), dw_.ref(), y.ref(),
                                      cc.bias ? std::optional(dbias.ref()) : std::nullopt),
                variant.variant);
    gemm.record(rec, kernels::conv_data_grad(g, s.samples, dw_.ref(), ddy.ref(), dxo.ref(), false), variant.variant);
    gemm.record(rec, kernels::conv_weight_grad(g, s.samples, ddy.ref(), dx_.ref(), dgw.ref(), true), variant.variant);
  });

  const auto ry = reference::conv_forward(s, x, w, cc.bias ? std::span<const double>(bias) : std::span<const double>());
  EXPECT_TRUE(all_close(read_back(ctx, y), ry.value, tolerance(ry, uint64_t(s.in_channels) * taps, t))) << "forward";
  const auto rdx = reference::conv_data_grad(s, w, dy);
  EXPECT_TRUE(all_close(read_back(ctx, dxo), rdx.value, tolerance(rdx, uint64_t(s.out_channels) * taps, t)))
      << "data gradient";
  auto rdw = reference::conv_weight_grad(s, dy, x);
  for (size_t i = 0; i < rdw.value.size(); ++i) {
    rdw.value[i] += dw0[i];
    rdw.magnitude[i] += std::fabs(dw0[i]);
  }
  const uint64_t k = uint64_t(s.samples) * s.out_h() * s.out_w();
  EXPECT_TRUE(all_close(read_back(ctx, dgw), rdw.value, tolerance(rdw, k, ElemType::F32))) << "weight gradient";
}

reference::ConvShape shape(uint32_t samples, uint32_t groups, uint32_t cin, uint32_t cout, uint32_t h, uint32_t w,
                           uint32_t k) {
  reference::ConvShape s;
  s.samples = samples, s.groups = groups, s.in_channels = cin, s.out_channels = cout;
  s.h = h, s.w = w, s.kh = s.kw = k;
  return s;
}

reference::ConvShape with(reference::ConvShape s, auto&& edit) {
  edit(s);
  return s;
}

const ConvCase kCases[] = {
    {"same_3x3_bias", with(shape(2, 1, 3, 5, 7, 6, 3), [](auto& s) { s.pad_h = s.pad_w = 1; }), true},
    {"stride2", with(shape(2, 1, 4, 6, 9, 8, 3), [](auto& s) { s.stride_h = s.stride_w = 2, s.pad_h = s.pad_w = 1; })},
    {"dilated", with(shape(1, 1, 3, 4, 10, 8, 3), [](auto& s) { s.dilation_h = s.dilation_w = 2, s.pad_h = 2; })},
    {"grouped", with(shape(2, 2, 3, 2, 6, 6, 3), [](auto& s) { s.pad_h = s.pad_w = 1; }), true},
    {"depthwise_stride2", with(shape(3, 4, 1, 1, 7, 7, 3), [](auto& s) { s.stride_h = s.stride_w = 2, s.pad_w = 1; })},
    {"rect_kernel", with(shape(2, 1, 2, 3, 5, 9, 1),
                         [](auto& s) { s.kw = 3, s.stride_w = 2, s.pad_w = 1, s.stride_h = 3; })},
    {"pointwise", shape(2, 1, 16, 8, 4, 5, 1), true},
    {"valid_5x5", shape(2, 1, 2, 3, 5, 5, 5)},
    {"first_layer", with(shape(4, 1, 1, 8, 12, 12, 3), [](auto& s) { s.pad_h = s.pad_w = 1; }), true},
};


// Each shape is three pipelines per variant (the geometry is specialized). The cooperative-matrix
// variants share their conv addressing with the others (common/gemm_stage.glsl reads through
// load_a/load_b); on CPU drivers their pipelines take seconds to build, so they run the shapes
// that together cover padding, stride, dilation, groups, bias and an odd kernel.
const ConvCase kCoopmatCases[] = {kCases[0], kCases[2], kCases[3], kCases[4], kCases[5]};

std::vector<VariantCase> variants(bool coopmat) {
  std::vector<VariantCase> out;
  for (const auto& v : kGemmVariants) {
    const bool is_coopmat = v.variant == GemmVariant::Coopmat || v.variant == GemmVariant::Coopmat2;
    if (is_coopmat == coopmat) out.push_back(v);
  }
  return out;
}

std::string case_name(const ::testing::TestParamInfo<std::tuple<VariantCase, ConvCase>>& param) {
  return std::string(std::get<0>(param.param).name) + "_" + std::get<1>(param.param).name;
}

INSTANTIATE_TEST_SUITE_P(Variants, ConvTest,
                         ::testing::Combine(::testing::ValuesIn(variants(false)), ::testing::ValuesIn(kCases)), case_name);
INSTANTIATE_TEST_SUITE_P(CoopmatVariants, ConvTest,
                         ::testing::Combine(::testing::ValuesIn(variants(true)), ::testing::ValuesIn(kCoopmatCases)),
                         case_name);

using ConvErrors = VkTest;

TEST_F(ConvErrors, MismatchedShapesAndShortRangesAreRejected) {
  vk::Context& ctx = context();
  reference::ConvShape s = shape(2, 1, 3, 4, 6, 6, 3);
  const auto g = geometry_of(s);
  const auto x = make_tensor(ctx, {}, s.input_size(), ElemType::F32, "x");
  const auto w = make_tensor(ctx, {}, s.weight_size(), ElemType::F32, "w");
  const auto y = make_tensor(ctx, {}, s.output_size(), ElemType::F32, "y");
  const auto small = make_tensor(ctx, {}, 8, ElemType::F32, "small");
  const kernels::Gemm gemm(ctx);
  run(ctx, [&](vk::Recorder& rec) {
    auto d = kernels::conv_forward(g, s.samples, x.ref(), w.ref(), y.ref());
    d.b.range = small.range();  // too short for the input images
    EXPECT_THROW(gemm.record(rec, d), Error);
    d = kernels::conv_forward(g, s.samples, x.ref(), w.ref(), y.ref());
    d.k += 1;  // not in_channels × taps
    EXPECT_THROW(gemm.record(rec, d), Error);
    auto big = g;
    big.kernel_h = 9;  // does not fit the 6×6 input
    EXPECT_THROW(gemm.record(rec, kernels::conv_forward(big, s.samples, x.ref(), w.ref(), y.ref())), Error);
    d = kernels::conv_data_grad(g, s.samples, w.ref(), y.ref(), x.ref(), false);
    d.bias = small.range();  // only the forward pass has a bias
    EXPECT_THROW(gemm.record(rec, d), Error);
  });
}

}  // namespace
}  // namespace vkgrad::test
