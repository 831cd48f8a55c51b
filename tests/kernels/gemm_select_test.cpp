// GEMM variant and preset selection on made-up capability tables (no GPU needed).
#include "vkgrad/error.hpp"
#include "vkgrad/kernels/gemm.hpp"

#include <gtest/gtest.h>

namespace vkgrad::test {
namespace {

using kernels::ElemType;
using kernels::GemmPreset;
using kernels::GemmVariant;
using vk::Feature;

vk::Caps gpu(bool coopmat, VkPhysicalDeviceType type = VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU) {
  vk::Caps c;
  c.type = type;
  for (Feature f : {Feature::Fp16Arith, Feature::Storage16, Feature::MemoryModel, Feature::SubgroupSizeControl,
                    Feature::FullSubgroups, Feature::BufferDeviceAddress})
    c.features[size_t(f)] = {true, true};
  c.features[size_t(Feature::Coopmat)] = {coopmat, coopmat};
  c.subgroup_size = c.min_subgroup_size = c.max_subgroup_size = 32;
  c.coopmat_shapes = {{16, 8, 16, VK_COMPONENT_TYPE_FLOAT16_KHR, VK_COMPONENT_TYPE_FLOAT16_KHR,
                       VK_COMPONENT_TYPE_FLOAT32_KHR, VK_COMPONENT_TYPE_FLOAT32_KHR, VK_SCOPE_SUBGROUP_KHR}};
  c.max_shared_memory = 49152;
  c.max_workgroup_invocations = 1024;
  c.max_workgroup_size = {1024, 1024, 64};
  return c;
}

TEST(GemmSelect, GpuPrefersCoopmatThenTiled16) {
  EXPECT_EQ(kernels::select_gemm(gpu(true), 1024, 1024, ElemType::F16, ElemType::F16).variant, GemmVariant::Coopmat);
  EXPECT_EQ(kernels::select_gemm(gpu(false), 1024, 1024, ElemType::F16, ElemType::F16).variant, GemmVariant::Tiled16);
  EXPECT_EQ(kernels::select_gemm(gpu(true), 1024, 1024, ElemType::F32, ElemType::F32).variant, GemmVariant::Fp32);
}

TEST(GemmSelect, CpuDeviceDefaultsToTheCpuKernelForEveryType) {
  auto c = gpu(true, VK_PHYSICAL_DEVICE_TYPE_CPU);
  EXPECT_EQ(kernels::select_gemm(c, 1024, 1024, ElemType::F16, ElemType::F16).variant, GemmVariant::Cpu);
  EXPECT_EQ(kernels::select_gemm(c, 1024, 1024, ElemType::F32, ElemType::F32).variant, GemmVariant::Cpu);
  EXPECT_EQ(kernels::select_gemm(c, 1024, 1024, ElemType::F16, ElemType::F16, GemmVariant::Coopmat).variant,
            GemmVariant::Coopmat);
  // Rows per workgroup follow m.
  EXPECT_EQ(kernels::select_gemm(c, 128, 10, ElemType::F16, ElemType::F16).preset, GemmPreset::Large);
  EXPECT_EQ(kernels::select_gemm(c, 10, 256, ElemType::F16, ElemType::F16).preset, GemmPreset::Medium);
  EXPECT_EQ(kernels::select_gemm(c, 3, 256, ElemType::F16, ElemType::F16).preset, GemmPreset::Small);
  // Without buffer device addresses the portable kernels serve, and cpu cannot be forced.
  c.features[size_t(Feature::BufferDeviceAddress)] = {true, false};
  EXPECT_EQ(kernels::select_gemm(c, 1024, 1024, ElemType::F16, ElemType::F16).variant, GemmVariant::Coopmat);
  EXPECT_EQ(kernels::select_gemm(c, 1024, 1024, ElemType::F32, ElemType::F32).variant, GemmVariant::Fp32);
  EXPECT_THROW(kernels::select_gemm(c, 64, 64, ElemType::F16, ElemType::F16, GemmVariant::Cpu), Error);
}

TEST(GemmSelect, GpusDoNotDefaultToTheCpuKernel) {
  EXPECT_NE(kernels::select_gemm(gpu(false), 1024, 1024, ElemType::F16, ElemType::F16).variant, GemmVariant::Cpu);
  EXPECT_NE(kernels::select_gemm(gpu(false), 1024, 1024, ElemType::F32, ElemType::F32).variant, GemmVariant::Cpu);
  EXPECT_EQ(kernels::select_gemm(gpu(false), 1024, 1024, ElemType::F32, ElemType::F32, GemmVariant::Cpu).variant,
            GemmVariant::Cpu);
}

TEST(GemmSelect, PresetFollowsShapeAndLimits) {
  EXPECT_EQ(kernels::select_gemm(gpu(false), 1000, 3, ElemType::F16, ElemType::F16).preset, GemmPreset::Small);
  EXPECT_EQ(kernels::select_gemm(gpu(false), 256, 256, ElemType::F16, ElemType::F16).preset, GemmPreset::Medium);
  EXPECT_EQ(kernels::select_gemm(gpu(false), 2048, 2048, ElemType::F16, ElemType::F16).preset, GemmPreset::Large);
  auto tiny = gpu(false);
  tiny.max_shared_memory = 16384;  // Vulkan's minimum: the large tiles (16 KiB + ...) step down
  tiny.max_workgroup_invocations = 128;
  EXPECT_NE(kernels::select_gemm(tiny, 2048, 2048, ElemType::F16, ElemType::F16).preset, GemmPreset::Large);
}

TEST(GemmSelect, ImpossibleRequestsSayWhy) {
  EXPECT_THROW(kernels::select_gemm(gpu(false), 64, 64, ElemType::F16, ElemType::F16, GemmVariant::Coopmat), Error);
  EXPECT_THROW(kernels::select_gemm(gpu(true), 64, 64, ElemType::F16, ElemType::F16, GemmVariant::Fp32), Error);
  EXPECT_THROW(kernels::select_gemm(gpu(true), 64, 64, ElemType::F32, ElemType::F32, GemmVariant::Tiled16), Error);
}

TEST(GemmSelect, VariantNamesRoundTrip) {
  for (auto v : {GemmVariant::Coopmat, GemmVariant::Coopmat2, GemmVariant::Tiled16, GemmVariant::Fp32, GemmVariant::Cpu})
    EXPECT_EQ(kernels::gemm_variant_from_name(kernels::gemm_variant_name(v)), v);
  EXPECT_FALSE(kernels::gemm_variant_from_name("cublas"));
}

}  // namespace
}  // namespace vkgrad::test
