// Causal self-attention (Graph::causal_self_attention), fused and composed, against the float64
// reference: GPT-2's module, c_attn → heads → softmax(q·kᵀ/√d, causal)·v → c_proj, evaluated by
// the trainer in fp32 and in mixed precision; then the fused and composed modules against each
// other, outputs and every parameter's gradient, with each GEMM variant the device runs.
//
// Tolerance. fp32: every value is an fp32 sum of at most 3·dim products or a softmax of at most
// T terms, with inputs and weights in [-1, 1], so each stage errs by a few ulp of its magnitude
// (≤ dim); five stages stay below 1e-5·(1 + |y|). Mixed: the same stages round their results to
// fp16 (2^-11 relative) and read fp16 weights: 16·2^-11·(1 + |y|) bounds five such roundings
// propagated through sums of magnitude at most a few times |y| + 1.
#include "numerics.hpp"
#include "reference/attention.hpp"
#include "vk_fixture.hpp"
#include "vkgrad/error.hpp"
#include "vkgrad/train/trainer.hpp"

#include <cmath>
#include <memory>
#include <optional>
#include <string>

namespace vkgrad::test {
namespace {

// y [rows, out] = x [rows, in] · Wᵀ + b.
std::vector<double> affine(const std::vector<double>& x, const std::vector<double>& w, const std::vector<double>& b,
                           size_t rows, size_t in, size_t out) {
  std::vector<double> y(rows * out);
  for (size_t r = 0; r < rows; ++r)
    for (size_t o = 0; o < out; ++o) {
      double s = b[o];
      for (size_t i = 0; i < in; ++i) s += x[r * in + i] * w[o * in + i];
      y[r * out + o] = s;
    }
  return y;
}

const uint32_t kSamples = 3, kT = 5, kDim = 32, kHeads = 2;  // head dim 16: whole 8×8 and 16×16 coopmat tiles

std::vector<double> values(size_t n, uint32_t seed) {
  return round_for(kernels::ElemType::F16, uniform(n, -1, 1, seed));
}
std::vector<float> to_float(const std::vector<double>& v) { return {v.begin(), v.end()}; }

// One attention module under an MSE loss, its parameters drawn from fixed seeds (fp16 values,
// exact in either precision).
std::unique_ptr<train::Trainer> module(vk::Context& ctx, train::Precision precision, graph::AttentionImpl impl,
                                       std::optional<kernels::AttentionVariant> variant = std::nullopt) {
  graph::Graph g;
  const auto x = g.reshape(g.input("x", {kT * kDim}), {kT, kDim});
  g.mse(g.flatten(g.causal_self_attention(x, kHeads, "attn", impl)), g.input("target", {kT * kDim}));
  train::TrainerCreateInfo info;
  info.batch_size = kSamples;
  info.precision = precision;
  info.optimizer = train::OptimizerConfig::sgd(0.0f);
  info.loss_scale.mode = kernels::ScaleMode::Off;
  info.attention_variant = variant;
  auto trainer = std::make_unique<train::Trainer>(ctx, g, info);
  trainer->set_parameter("attn.c_attn.weight", to_float(values(3 * kDim * kDim, 2)));
  trainer->set_parameter("attn.c_attn.bias", to_float(values(3 * kDim, 3)));
  trainer->set_parameter("attn.c_proj.weight", to_float(values(kDim * kDim, 4)));
  trainer->set_parameter("attn.c_proj.bias", to_float(values(kDim, 5)));
  return trainer;
}

const char* impl_name(graph::AttentionImpl impl) {
  return impl == graph::AttentionImpl::Fused ? "fused" : impl == graph::AttentionImpl::Composed ? "composed" : "auto";
}
const char* precision_name(train::Precision p) { return p == train::Precision::Fp32 ? "fp32" : "mixed"; }

class AttentionTest : public VkTestWithParam<std::tuple<train::Precision, graph::AttentionImpl>> {};

TEST_P(AttentionTest, ModuleMatchesFloat64) {
  const auto [precision, impl] = GetParam();
  const uint32_t samples = kSamples, t = kT, dim = kDim, heads = kHeads;
  const auto trainer = module(context(), precision, impl);
  const auto xs = values(size_t(samples) * t * dim, 1);
  const auto wa = values(3 * dim * dim, 2), ba = values(3 * dim, 3), wp = values(dim * dim, 4), bp = values(dim, 5);
  const auto xf = to_float(xs);
  const std::vector<float> zeros(xf.size(), 0.0f);
  const auto got = trainer->predict({samples, {{xf}, {zeros}}});

  const size_t rows = size_t(samples) * t;
  const auto qkv = affine(xs, wa, ba, rows, dim, 3 * dim);
  std::vector<double> q(rows * dim), k(rows * dim), v(rows * dim);
  for (size_t r = 0; r < rows; ++r)
    for (size_t c = 0; c < dim; ++c) {
      q[r * dim + c] = qkv[r * 3 * dim + c];
      k[r * dim + c] = qkv[r * 3 * dim + dim + c];
      v[r * dim + c] = qkv[r * 3 * dim + 2 * dim + c];
    }
  const auto att = reference::causal_attention(q, k, v, samples, t, heads, dim / heads);
  const auto want = affine(att, wp, bp, rows, dim, dim);
  const bool mixed = precision == train::Precision::Mixed;
  std::vector<double> tol(want.size());
  for (size_t i = 0; i < want.size(); ++i) tol[i] = (mixed ? 16 * 0x1p-11 : 1e-5) * (1 + std::fabs(want[i]));
  EXPECT_TRUE(all_close(std::vector<double>(got.begin(), got.end()), want, tol));
}

INSTANTIATE_TEST_SUITE_P(
    Precisions, AttentionTest,
    ::testing::Combine(::testing::Values(train::Precision::Fp32, train::Precision::Mixed),
                       ::testing::Values(graph::AttentionImpl::Fused, graph::AttentionImpl::Composed)),
    [](const ::testing::TestParamInfo<std::tuple<train::Precision, graph::AttentionImpl>>& p) {
      return std::string(precision_name(std::get<0>(p.param))) + "_" + impl_name(std::get<1>(p.param));
    });

// Fused and composed, outputs and gradients after one step (SGD at lr 0, no loss scaling), on
// the default GEMM choice and on the portable tiled one (buffer device addresses and
// cooperative matrices off; a training step on the cooperative-matrix GEMM is left out: the
// validation layer 1.4.309 reports a write-after-write hazard for any coopmat store into memory
// written earlier in the same command buffer, whatever barrier lies between them); and with
// each fused-attention variant forced (scalar; coopmat where the device has cooperative
// matrices, whose stores go to shared memory only, so the layer has nothing to misread). Each differs
// from the float64 module by its own roundings, so they agree within twice the bound above for
// the outputs. Gradients: a chain of ≤ 8 stages (GEMMs, softmax, the MSE's), each a sum of at
// most 3·dim·T = 240 terms: fp32 errs by ≤ 8·240·2^-24 ≈ 1.1e-4 of (1 + |g|), so 2e-4; in mixed
// precision every stage's result is rounded to fp16 (the composed scores and probabilities as
// well, which the fused kernel keeps in fp32, or rounds P and dS only, on coopmat): 32·2^-11 of
// (1 + |g|).
struct AgreementCase {
  train::Precision precision;
  bool portable;
  std::optional<kernels::AttentionVariant> variant;  // the fused attention's, forced
};

class FusedVsComposed : public VkTestWithParam<AgreementCase> {};

TEST_P(FusedVsComposed, OutputsAndGradientsAgree) {
  const auto [precision, portable, variant] = GetParam();
  vk::Context& ctx = portable ? context({vk::Feature::BufferDeviceAddress, vk::Feature::Coopmat, vk::Feature::Coopmat2})
                              : context();
  if (variant) {
    const auto type = precision == train::Precision::Mixed ? kernels::ElemType::F16 : kernels::ElemType::F32;
    try {
      (void)kernels::select_attention(context().caps(), type, kDim / kHeads, *variant);
    } catch (const Error& e) {
      GTEST_SKIP() << "needs cooperative matrices: " << e.what();
    }
  }
  // The coopmat attention is forced on the default context: the portable one has them off.
  const auto fused_trainer = module(variant ? context() : ctx, precision, graph::AttentionImpl::Fused, variant);
  const auto composed_trainer = module(ctx, precision, graph::AttentionImpl::Composed);
  train::Trainer &fused = *fused_trainer, &composed = *composed_trainer;
  const auto xf = to_float(values(size_t(kSamples) * kT * kDim, 1)), target = to_float(values(xf.size(), 6));
  const train::Batch batch{kSamples, {{xf}, {target}}};
  const bool mixed = precision == train::Precision::Mixed;
  const auto as_double = [](const std::vector<float>& v) { return std::vector<double>(v.begin(), v.end()); };
  const auto yf = as_double(fused.predict(batch)), yc = as_double(composed.predict(batch));
  std::vector<double> tol(yc.size());
  for (size_t i = 0; i < yc.size(); ++i) tol[i] = 2 * (mixed ? 16 * 0x1p-11 : 1e-5) * (1 + std::fabs(yc[i]));
  EXPECT_TRUE(all_close(yf, yc, tol)) << "outputs";
  fused.step(batch);
  composed.step(batch);
  ASSERT_FALSE(fused.metrics(train::Wait::Yes).skipped);
  ASSERT_FALSE(composed.metrics(train::Wait::Yes).skipped);
  for (const auto& name : composed.parameter_names()) {
    const auto gf = as_double(fused.gradient(name)), gc = as_double(composed.gradient(name));
    std::vector<double> gtol(gc.size());
    for (size_t i = 0; i < gc.size(); ++i) gtol[i] = (mixed ? 32 * 0x1p-11 : 2e-4) * (1 + std::fabs(gc[i]));
    EXPECT_TRUE(all_close(gf, gc, gtol)) << name;
  }
}

INSTANTIATE_TEST_SUITE_P(Variants, FusedVsComposed,
                         ::testing::Values(AgreementCase{train::Precision::Fp32, false, std::nullopt},
                                           AgreementCase{train::Precision::Fp32, true, std::nullopt},
                                           AgreementCase{train::Precision::Mixed, false, std::nullopt},
                                           AgreementCase{train::Precision::Mixed, true, std::nullopt},
                                           AgreementCase{train::Precision::Fp32, false, kernels::AttentionVariant::Scalar},
                                           AgreementCase{train::Precision::Mixed, false, kernels::AttentionVariant::Scalar},
                                           AgreementCase{train::Precision::Mixed, false, kernels::AttentionVariant::Coopmat}),
                         [](const ::testing::TestParamInfo<AgreementCase>& p) {
                           return std::string(precision_name(p.param.precision)) +
                                  (p.param.portable ? "_portable" : "_default") + "_attention_" +
                                  (p.param.variant ? std::string(kernels::attention_variant_name(*p.param.variant))
                                                   : std::string("chosen"));
                         });

}  // namespace
}  // namespace vkgrad::test
