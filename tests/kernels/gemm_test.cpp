// Every GEMM variant against the float64 reference: edge shapes, transposes, batches,
// leading dimensions, every epilogue, β ∈ {0, 1}, fp16 and fp32 outputs.
//
// Inputs are rounded to the operand precision first, so the reference sees what the device
// sees. Error bound per element, from the fp32 accumulation (products of fp16 or fp32 values
// are accumulated in fp32; worst case (K + 4)·2^-24 relative to Σ|terms|, the +4 for α, β·C,
// bias and the final add), the activation (slope ≤ 1.13 for GELU; erf approximation and fp32
// transcendentals ≈ 1e-6·|x| + 2^-20), the rounding to the output type (2^-11·|C| for fp16,
// 2^-24 for fp32) and one subnormal step of it.
#include "gemm_variants.hpp"
#include "numerics.hpp"
#include "reference/gemm.hpp"
#include "vk_fixture.hpp"
#include "vkgrad/error.hpp"
#include "vkgrad/kernels/gemm.hpp"
#include "vkgrad/vk/buffer.hpp"

#include <cmath>
#include <cstring>
#include <limits>

namespace vkgrad::test {
namespace {

using kernels::Activation;
using kernels::ElemType;
using kernels::GemmVariant;
using vk::Feature;


struct GemmCase {
  const char* name;
  reference::GemmProblem p;
  ElemType out = ElemType::F32;
};

// Values for a stored operand of `elements`, with the positions the GEMM must not read set to
// NaN (so reading them shows up in the result).
std::vector<double> operand(size_t elements, const std::vector<bool>& used, ElemType t, uint32_t seed, double lo,
                            double hi) {
  auto v = round_for(t, uniform(elements, lo, hi, seed));
  for (size_t i = 0; i < elements; ++i)
    if (!used[i]) v[i] = std::numeric_limits<double>::quiet_NaN();
  return v;
}

std::vector<bool> used_mask(size_t elements, uint32_t batch, uint32_t stride, uint32_t rows, uint32_t cols, uint32_t ld) {
  std::vector<bool> used(elements, false);
  for (uint32_t t = 0; t < batch; ++t)
    for (uint32_t r = 0; r < rows; ++r)
      for (uint32_t c = 0; c < cols; ++c) used[size_t(t) * stride + size_t(r) * ld + c] = true;
  return used;
}

class GemmTest : public VkTestWithParam<std::tuple<VariantCase, GemmCase>> {};

TEST_P(GemmTest, MatchesReference) {
  const auto& [variant, gc] = GetParam();
  reference::GemmProblem p = gc.p;
  const ElemType in_type = variant.operands;
  const ElemType out_type = in_type == ElemType::F32 ? ElemType::F32 : gc.out;
  vk::Context& ctx = context(variant.disable);
  for (Feature f : variant.needs)
    if (!ctx.caps().enabled(f)) GTEST_SKIP() << "needs " << vk::feature_name(f);

  const uint32_t a_rows = p.trans_a ? p.k : p.m, a_cols = p.trans_a ? p.m : p.k;
  const uint32_t b_rows = p.trans_b ? p.n : p.k, b_cols = p.trans_b ? p.k : p.n;
  if (p.lda == 0) p.lda = a_cols;
  if (p.ldb == 0) p.ldb = b_cols;
  if (p.ldc == 0) p.ldc = p.n;
  const auto size = [&](uint32_t stride, uint32_t rows, uint32_t ld) {
    return size_t(p.batch - 1) * stride + size_t(rows) * ld;
  };
  const size_t na = size(p.stride_a, a_rows, p.lda), nb = size(p.stride_b, b_rows, p.ldb), nc = size(p.stride_c, p.m, p.ldc);
  const auto a = operand(na, used_mask(na, p.batch, p.stride_a, a_rows, a_cols, p.lda), in_type, 11, -1, 1);
  const auto b = operand(nb, used_mask(nb, p.batch, p.stride_b, b_rows, b_cols, p.ldb), in_type, 12, -1, 1);
  // C is NaN wherever β = 0 must keep the kernel from reading it; padding is random and must survive.
  auto c = round_for(out_type, uniform(nc, -2, 2, 13));
  const auto c_used = used_mask(nc, p.batch, p.stride_c, p.m, p.n, p.ldc);
  if (p.beta == 0)
    for (size_t i = 0; i < nc; ++i)
      if (c_used[i]) c[i] = std::numeric_limits<double>::quiet_NaN();
  const auto bias = round_for(out_type, uniform(p.n, -0.5, 0.5, 14));

  const auto upload = [&](const std::vector<double>& v, ElemType t, const char* name) {
    const auto bytes = encode(t, v);
    vk::Buffer buf(ctx, {.size = bytes.size(), .name = name});
    vk::upload(ctx, buf, bytes.data(), bytes.size());
    const VkDeviceSize whole = buf.size();  // fp16 tensors occupy whole 32-bit words
    return std::make_pair(std::move(buf), whole);
  };
  auto [ba, sa] = upload(a, in_type, "A");
  auto [bb, sb] = upload(b, in_type, "B");
  auto [bc, sc] = upload(c, out_type, "C");
  auto [bbias, sbias] = upload(bias, out_type, "bias");

  kernels::GemmDesc d;
  d.m = p.m, d.n = p.n, d.k = p.k, d.batch = p.batch;
  d.a = {ba.range(0, sa), in_type, p.lda, p.stride_a, p.trans_a};
  d.b = {bb.range(0, sb), in_type, p.ldb, p.stride_b, p.trans_b};
  d.c = {bc.range(0, sc), out_type, p.ldc, p.stride_c, false};
  d.alpha = float(p.alpha), d.beta = float(p.beta);
  if (p.bias) d.bias = bbias.range(0, sbias);
  d.bias_type = out_type;
  d.activation = Activation(p.activation);
  const kernels::Gemm gemm(ctx);
  kernels::GemmChoice choice;
  ctx.run_now([&](VkCommandBuffer cmd) {
    vk::Recorder rec(ctx, cmd);
    choice = gemm.record(rec, d, variant.variant);
  });
  EXPECT_EQ(choice.variant, variant.variant);

  std::vector<std::byte> out(encode(out_type, c).size());
  vk::download(ctx, bc, out.data(), out.size());
  const auto got = decode(out_type, out, nc);
  const auto ref = reference::gemm(p, a, b, c, bias);
  const double u_out = out_type == ElemType::F16 ? std::ldexp(1.0, -11) : std::ldexp(1.0, -24);
  const double tiny = out_type == ElemType::F16 ? std::ldexp(1.0, -24) : std::ldexp(1.0, -149);
  const bool gelu = p.activation >= 2;
  std::vector<double> want, have, tol;
  for (size_t i = 0; i < nc; ++i) {
    if (!c_used[i]) {
      // Padding must come back bit for bit (compare encodings: it may be any value).
      const size_t w = elem_bytes(out_type);
      EXPECT_EQ(std::memcmp(out.data() + i * w, encode(out_type, std::vector<double>{c[i]}).data(), w), 0)
          << "padding element " << i << " was written";
      continue;
    }
    want.push_back(ref.c[i]);
    have.push_back(got[i]);
    const double accum = (p.k + 4) * std::ldexp(1.0, -24) * ref.magnitude[i] * (gelu ? 1.13 : 1.0);
    const double act = gelu ? 1e-6 * std::fabs(ref.pre_activation[i]) + std::ldexp(1.0, -20) : 0.0;
    tol.push_back(accum + act + u_out * std::fabs(ref.c[i]) + tiny);
  }
  EXPECT_TRUE(all_close(have, want, tol)) << gc.name << " with " << kernels::gemm_variant_name(variant.variant)
                                          << " (" << kernels::gemm_preset_name(choice.preset) << ")";
}

reference::GemmProblem shape(uint32_t m, uint32_t n, uint32_t k) {
  reference::GemmProblem p;
  p.m = m, p.n = n, p.k = k;
  return p;
}

reference::GemmProblem with(reference::GemmProblem p, auto&& edit) {
  edit(p);
  return p;
}

const GemmCase kCases[] = {
    {"one", shape(1, 1, 1)},
    {"primes_nn", shape(127, 253, 61)},
    {"primes_nt", with(shape(127, 253, 61), [](auto& p) { p.trans_b = true; })},
    {"primes_tn", with(shape(127, 253, 61), [](auto& p) { p.trans_a = true; })},
    {"primes_tt", with(shape(127, 253, 61), [](auto& p) { p.trans_a = p.trans_b = true; })},
    {"k1", shape(33, 17, 1)},
    {"tall_skinny", shape(1000, 3, 40), ElemType::F16},
    {"short_wide", shape(3, 1000, 40)},
    {"long_k", shape(16, 24, 2048)},
    {"batched_padded", with(shape(37, 29, 23),
                            [](auto& p) {
                              p.batch = 3, p.lda = 26, p.ldb = 31, p.ldc = 33;
                              p.stride_a = 37 * 26 + 5, p.stride_b = 23 * 31 + 3, p.stride_c = 37 * 33 + 2;
                              p.alpha = 0.5, p.beta = 1;
                            })},
    {"bias_relu", with(shape(70, 66, 50), [](auto& p) { p.bias = true, p.activation = 1; }), ElemType::F16},
    {"bias_gelu", with(shape(65, 130, 33), [](auto& p) { p.bias = true, p.activation = 2; }), ElemType::F16},
    {"bias_gelu_tanh", with(shape(65, 130, 33), [](auto& p) { p.bias = true, p.activation = 3; })},
    {"beta1_f16", with(shape(64, 64, 64), [](auto& p) { p.beta = 1; }), ElemType::F16},
    {"beta1_f32_nt", with(shape(48, 80, 96), [](auto& p) { p.beta = 1, p.trans_b = true; })},
    // Leading dimensions in whole 16-byte units: fp16 operands are staged 128 bits at a time,
    // and vectors that cross the edge of op(A) or op(B) fall back to single elements.
    {"aligned_tt", with(shape(40, 48, 56), [](auto& p) { p.trans_a = p.trans_b = true; })},
    {"aligned_tn_edges", with(shape(37, 45, 24), [](auto& p) { p.trans_a = true, p.lda = 40, p.ldb = 48; }), ElemType::F16},
    {"aligned_nt_edges", with(shape(45, 37, 21), [](auto& p) { p.trans_b = true, p.lda = 24, p.ldb = 24; })},
    {"odd_ldc_f16", with(shape(9, 7, 5), [](auto& p) { p.ldc = 7; }), ElemType::F16},
    {"padded_ldc_f16", with(shape(9, 7, 5), [](auto& p) { p.ldc = 8, p.beta = 1; }), ElemType::F16},
};


INSTANTIATE_TEST_SUITE_P(Variants, GemmTest, ::testing::Combine(::testing::ValuesIn(kGemmVariants), ::testing::ValuesIn(kCases)),
                         [](const ::testing::TestParamInfo<std::tuple<VariantCase, GemmCase>>& param) {
                           return std::string(std::get<0>(param.param).name) + "_" + std::get<1>(param.param).name;
                         });

// Dependent GEMMs in one recording, as a training step records them (gradients accumulated into
// a range a fill just cleared, then GEMM after GEMM into it): the recorder's barriers must order
// every write, so C = fill(0), then C += A·B three times, gives exactly 3·A·B in fp32 (the
// products of small integers are exact in every variant). 136×72×48: whole tiles (stored straight
// to C where the variant can) and partial ones, on 8×8 and 16×16 cooperative-matrix shapes alike.
class GemmChainTest : public VkTestWithParam<VariantCase> {};

TEST_P(GemmChainTest, AccumulatesInOrderAfterAFill) {
  const VariantCase& variant = GetParam();
  vk::Context& ctx = context(variant.disable);
  for (Feature f : variant.needs)
    if (!ctx.caps().enabled(f)) GTEST_SKIP() << "needs " << vk::feature_name(f);
  const uint32_t m = 136, n = 72, k = 48;
  std::vector<double> a(size_t(m) * k), b(size_t(k) * n);
  for (size_t i = 0; i < a.size(); ++i) a[i] = double(int(i % 7) - 3);
  for (size_t i = 0; i < b.size(); ++i) b[i] = double(int(i % 5) - 2);
  const auto ea = encode(variant.operands, a), eb = encode(variant.operands, b);
  vk::Buffer ba(ctx, {.size = ea.size(), .name = "A"}), bb(ctx, {.size = eb.size(), .name = "B"});
  vk::Buffer bc(ctx, {.size = size_t(m) * n * 4, .name = "C"});
  vk::upload(ctx, ba, ea.data(), ea.size());
  vk::upload(ctx, bb, eb.data(), eb.size());
  kernels::GemmDesc d;
  d.m = m, d.n = n, d.k = k;
  d.a = {ba.range(), variant.operands, k, 0, false};
  d.b = {bb.range(), variant.operands, n, 0, false};
  d.c = {bc.range(), ElemType::F32, n, 0, false};
  d.beta = 1.0f;
  const kernels::Gemm gemm(ctx);
  ctx.run_now([&](VkCommandBuffer cmd) {
    vk::Recorder rec(ctx, cmd);
    rec.fill(bc.range(), 0u);
    for (int i = 0; i < 3; ++i) gemm.record(rec, d, variant.variant);
  });
  std::vector<float> got(size_t(m) * n);
  vk::download(ctx, bc, std::span<float>(got));
  for (uint32_t r = 0; r < m; ++r)
    for (uint32_t c = 0; c < n; ++c) {
      double want = 0;
      for (uint32_t i = 0; i < k; ++i) want += a[size_t(r) * k + i] * b[size_t(i) * n + c];
      ASSERT_EQ(double(got[size_t(r) * n + c]), 3 * want) << "row " << r << ", column " << c;
    }
}

INSTANTIATE_TEST_SUITE_P(Variants, GemmChainTest, ::testing::ValuesIn(kGemmVariants),
                         [](const ::testing::TestParamInfo<VariantCase>& param) { return std::string(param.param.name); });

using GemmErrors = VkTest;

TEST_F(GemmErrors, BadShapesAndRangesAreRejected) {
  vk::Context& ctx = context();
  vk::Buffer buf(ctx, {.size = 4096});
  const kernels::Gemm gemm(ctx);
  kernels::GemmDesc d;
  d.m = d.n = d.k = 16;
  d.a = {buf.range(), ElemType::F16, 16, 0, false};
  d.b = {buf.range(), ElemType::F16, 16, 0, false};
  d.c = {buf.range(0, 512), ElemType::F32, 16, 0, false};  // needs 1024 bytes
  ctx.run_now([&](VkCommandBuffer cmd) {
    vk::Recorder rec(ctx, cmd);
    EXPECT_THROW(gemm.record(rec, d), Error);
    d.c.range = buf.range(0, 1024);
    d.a.ld = 8;  // shorter than a row
    EXPECT_THROW(gemm.record(rec, d), Error);
    d.a.ld = 16;
    d.k = 0;
    EXPECT_THROW(gemm.record(rec, d), Error);
    d.k = 16;
    d.a.type = ElemType::F32;
    EXPECT_THROW(gemm.record(rec, d, GemmVariant::Coopmat), Error);  // coopmat takes fp16 A and B
  });
}

}  // namespace
}  // namespace vkgrad::test
