// The composed causal self-attention (Graph::causal_self_attention) against the float64
// reference: GPT-2's module, c_attn → heads → softmax(q·kᵀ/√d, causal)·v → c_proj, evaluated by
// the trainer in fp32 and in mixed precision.
//
// Tolerance. fp32: every value is an fp32 sum of at most 3·dim products or a softmax of at most
// T terms, with inputs and weights in [-1, 1], so each stage errs by a few ulp of its magnitude
// (≤ dim); five stages stay below 1e-5·(1 + |y|). Mixed: the same stages round their results to
// fp16 (2^-11 relative) and read fp16 weights: 16·2^-11·(1 + |y|) bounds five such roundings
// propagated through sums of magnitude at most a few times |y| + 1.
#include "numerics.hpp"
#include "reference/attention.hpp"
#include "vk_fixture.hpp"
#include "vkgrad/train/trainer.hpp"

#include <cmath>
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

class AttentionTest : public VkTestWithParam<train::Precision> {};

TEST_P(AttentionTest, ComposedModuleMatchesFloat64) {
  const uint32_t samples = 3, t = 5, dim = 8, heads = 2;
  graph::Graph g;
  const auto x = g.reshape(g.input("x", {t * dim}), {t, dim});
  g.mse(g.flatten(g.causal_self_attention(x, heads, "attn")), g.input("target", {t * dim}));
  train::TrainerCreateInfo info;
  info.batch_size = samples;
  info.precision = GetParam();
  train::Trainer trainer(context(), g, info);

  const auto values = [](size_t n, uint32_t seed) { return round_for(kernels::ElemType::F16, uniform(n, -1, 1, seed)); };
  const auto xs = values(size_t(samples) * t * dim, 1);
  const auto wa = values(3 * dim * dim, 2), ba = values(3 * dim, 3), wp = values(dim * dim, 4), bp = values(dim, 5);
  const auto to_float = [](const std::vector<double>& v) { return std::vector<float>(v.begin(), v.end()); };
  trainer.set_parameter("attn.c_attn.weight", to_float(wa));
  trainer.set_parameter("attn.c_attn.bias", to_float(ba));
  trainer.set_parameter("attn.c_proj.weight", to_float(wp));
  trainer.set_parameter("attn.c_proj.bias", to_float(bp));
  const auto xf = to_float(xs);
  const std::vector<float> zeros(xf.size(), 0.0f);
  const auto got = trainer.predict({samples, {{xf}, {zeros}}});

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
  const bool mixed = GetParam() == train::Precision::Mixed;
  std::vector<double> tol(want.size());
  for (size_t i = 0; i < want.size(); ++i) tol[i] = (mixed ? 16 * 0x1p-11 : 1e-5) * (1 + std::fabs(want[i]));
  EXPECT_TRUE(all_close(std::vector<double>(got.begin(), got.end()), want, tol));
}

INSTANTIATE_TEST_SUITE_P(Precisions, AttentionTest, ::testing::Values(train::Precision::Fp32, train::Precision::Mixed),
                         [](const ::testing::TestParamInfo<train::Precision>& p) {
                           return std::string(p.param == train::Precision::Fp32 ? "fp32" : "mixed");
                         });

}  // namespace
}  // namespace vkgrad::test
