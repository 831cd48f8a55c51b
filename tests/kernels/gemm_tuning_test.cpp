// GEMM choice by measurement: the pure pieces on made-up numbers, then a Context that tunes,
// writes its choice beside the pipeline cache, and a second Context that reuses it.
#include "numerics.hpp"
#include "reference/gemm.hpp"
#include "vk_fixture.hpp"
#include "vkgrad/kernels/gemm_tuning.hpp"
#include "vkgrad/vk/buffer.hpp"

#include <filesystem>
#include <fstream>
#include <random>

namespace vkgrad::test {
namespace {

using kernels::ElemType;
using kernels::GemmChoice;
using kernels::GemmPreset;
using kernels::GemmVariant;
using vk::Feature;

kernels::GemmDesc shape(uint32_t m, uint32_t n, uint32_t k, ElemType t, bool trans_b) {
  kernels::GemmDesc d;
  d.m = m, d.n = n, d.k = k;
  d.a = {{}, t, k, 0, false};
  d.b = {{}, t, trans_b ? k : n, 0, trans_b};
  d.c = {{}, ElemType::F32, n, 0, false};
  return d;
}

TEST(GemmTuning, KeysNameTypesLayoutAndPowerOfTwoBuckets) {
  EXPECT_EQ(kernels::gemm_tuning_key(shape(128, 512, 784, ElemType::F16, true)), "gemm:f16.f16.f32:nt:m7.n9.k10");
  // Same class: every dimension within the same power of two.
  EXPECT_EQ(kernels::gemm_tuning_key(shape(100, 300, 600, ElemType::F16, true)),
            kernels::gemm_tuning_key(shape(128, 512, 1024, ElemType::F16, true)));
  EXPECT_NE(kernels::gemm_tuning_key(shape(128, 512, 784, ElemType::F16, false)),
            kernels::gemm_tuning_key(shape(128, 512, 784, ElemType::F16, true)));
  EXPECT_NE(kernels::gemm_tuning_key(shape(128, 512, 784, ElemType::F32, true)),
            kernels::gemm_tuning_key(shape(128, 512, 784, ElemType::F16, true)));
}

TEST(GemmTuning, ChoicesRoundTripThroughText) {
  for (auto v : {GemmVariant::Coopmat, GemmVariant::Tiled16, GemmVariant::Fp32, GemmVariant::Cpu})
    for (auto p : {GemmPreset::Small, GemmPreset::Medium, GemmPreset::Large}) {
      const auto back = kernels::gemm_choice_from_text(kernels::gemm_choice_text({v, p}));
      ASSERT_TRUE(back);
      EXPECT_EQ(back->variant, v);
      EXPECT_EQ(back->preset, p);
    }
  EXPECT_FALSE(kernels::gemm_choice_from_text("cublas/large"));
  EXPECT_FALSE(kernels::gemm_choice_from_text("cpu/huge"));
  EXPECT_FALSE(kernels::gemm_choice_from_text("cpu"));
}

TEST(GemmTuning, TheFastestCorrectTrialWins) {
  const GemmChoice fast_wrong{GemmVariant::Coopmat, GemmPreset::Large};
  const GemmChoice slow{GemmVariant::Tiled16, GemmPreset::Medium};
  const GemmChoice fast{GemmVariant::Cpu, GemmPreset::Large};
  const auto pick = kernels::pick_gemm_trial({{fast_wrong, 0.5, 3.0}, {slow, 4.0, 0.2}, {fast, 1.0, 1.0}});
  ASSERT_TRUE(pick);
  EXPECT_EQ(pick->variant, GemmVariant::Cpu);  // a probe at exactly its bound still passes
  EXPECT_FALSE(kernels::pick_gemm_trial({{fast_wrong, 0.5, 1.5}}));
  EXPECT_FALSE(kernels::pick_gemm_trial({}));
}

TEST(GemmTuning, CandidatesFollowOperandTypesAndFeatures) {
  vk::Caps c;
  c.type = VK_PHYSICAL_DEVICE_TYPE_CPU;
  for (Feature f : {Feature::Fp16Arith, Feature::Storage16, Feature::MemoryModel, Feature::BufferDeviceAddress,
                    Feature::Coopmat})
    c.features[size_t(f)] = {true, true};
  c.coopmat_shapes = {{16, 16, 16}};
  c.subgroup_size = c.min_subgroup_size = c.max_subgroup_size = 8;
  c.max_shared_memory = 32768;
  c.max_workgroup_invocations = 1024;
  c.max_workgroup_size = {1024, 1024, 1024};
  const auto variants = [&](ElemType t) {
    std::vector<GemmVariant> out;
    for (const auto& ch : kernels::gemm_candidates(c, shape(256, 256, 256, t, false)))
      if (out.empty() || out.back() != ch.variant) out.push_back(ch.variant);
    return out;
  };
  // A CPU device's cooperative matrices are emulated and not measured: fp16 has tiled16 and
  // cpu, fp32 has fp32 and cpu.
  EXPECT_EQ(variants(ElemType::F16), (std::vector{GemmVariant::Tiled16, GemmVariant::Cpu}));
  EXPECT_EQ(variants(ElemType::F32), (std::vector{GemmVariant::Fp32, GemmVariant::Cpu}));
  EXPECT_EQ(kernels::gemm_candidates(c, shape(256, 256, 256, ElemType::F16, false)).size(), 6u);
  c.type = VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU;
  EXPECT_EQ(variants(ElemType::F16), (std::vector{GemmVariant::Coopmat, GemmVariant::Tiled16, GemmVariant::Cpu}));
}

std::filesystem::path fresh_dir() {
  std::random_device rd;
  auto dir = std::filesystem::temp_directory_path() / ("vkgrad-tuning-test-" + std::to_string(rd()));
  std::filesystem::remove_all(dir);
  return dir;
}

using GemmTuningDevice = VkTest;

// An unforced GEMM on a tuning Context measures its class once, computes the right product
// with the winner, and a second Context over the same folder finds the choice on disk.
TEST_F(GemmTuningDevice, MeasuresOnceThenReusesTheStoredChoice) {
  if (context().caps().timestamp_valid_bits == 0) GTEST_SKIP() << "needs timestamps on the compute queue";
  const auto dir = fresh_dir();
  auto info = strict_create_info();
  info.pipeline_cache_dir = dir;
  info.tune_kernels = true;

  reference::GemmProblem p;
  p.m = 37, p.n = 50, p.k = 29, p.trans_b = true;
  p.lda = p.k, p.ldb = p.k, p.ldc = p.n;
  const auto a = round_for(ElemType::F16, uniform(size_t(p.m) * p.k, -1, 1, 3));
  const auto b = round_for(ElemType::F16, uniform(size_t(p.n) * p.k, -1, 1, 4));
  const auto ref = reference::gemm(p, a, b, std::vector<double>(size_t(p.m) * p.n, 0.0), {});
  std::string key;
  kernels::GemmChoice chosen;
  {
    vk::Context ctx(info);
    ASSERT_TRUE(ctx.tuning().enabled());
    const auto ea = encode(ElemType::F16, a), eb = encode(ElemType::F16, b);
    vk::Buffer ba(ctx, {.size = ea.size()}), bb(ctx, {.size = eb.size()}), bc(ctx, {.size = 4ull * p.m * p.n});
    vk::upload(ctx, ba, ea.data(), ea.size());
    vk::upload(ctx, bb, eb.data(), eb.size());
    kernels::GemmDesc d;
    d.m = p.m, d.n = p.n, d.k = p.k;
    d.a = {ba.range(), ElemType::F16, p.k, 0, false};
    d.b = {bb.range(), ElemType::F16, p.k, 0, true};
    d.c = {bc.range(), ElemType::F32, p.n, 0, false};
    key = kernels::gemm_tuning_key(d);
    EXPECT_FALSE(ctx.tuning().find(key));
    ctx.run_now([&](VkCommandBuffer cmd) {
      vk::Recorder rec(ctx, cmd);
      chosen = kernels::Gemm(ctx).record(rec, d);
    });
    const auto stored = ctx.tuning().find(key);
    ASSERT_TRUE(stored);
    EXPECT_EQ(*stored, kernels::gemm_choice_text(chosen));
    std::vector<float> got(size_t(p.m) * p.n);
    vk::download(ctx, bc, std::span<float>(got));
    std::vector<double> want(ref.c.begin(), ref.c.end()), have(got.begin(), got.end()), tol;
    for (double mag : ref.magnitude) tol.push_back((p.k + 4) * std::ldexp(1.0, -24) * mag + 1e-30);
    EXPECT_TRUE(all_close(have, want, tol)) << "with " << *stored;
  }
  {
    vk::Context ctx(info);
    const auto stored = ctx.tuning().find(key);
    ASSERT_TRUE(stored) << "the choice was not kept in " << ctx.tuning().file();
    EXPECT_EQ(*stored, kernels::gemm_choice_text(chosen));
  }
  // A damaged file is measured anew, never trusted.
  for (const auto& e : std::filesystem::directory_iterator(dir))
    if (e.path().filename().string().rfind("tuning-", 0) == 0) std::ofstream(e.path()) << "{not json";
  {
    vk::Context ctx(info);
    EXPECT_FALSE(ctx.tuning().find(key));
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace vkgrad::test
