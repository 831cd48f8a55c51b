// Variant selection on made-up capability tables: no GPU needed, every vendor's shape covered.
#include "vkgrad/kernels/attention.hpp"
#include "vkgrad/error.hpp"
#include "vkgrad/kernels/variant.hpp"

#include <gtest/gtest.h>

namespace vkgrad::test {
namespace {

using vk::Feature;

constexpr auto F16 = VK_COMPONENT_TYPE_FLOAT16_KHR;
constexpr auto F32 = VK_COMPONENT_TYPE_FLOAT32_KHR;
constexpr auto U8 = VK_COMPONENT_TYPE_UINT8_KHR;
constexpr auto U32 = VK_COMPONENT_TYPE_UINT32_KHR;
constexpr auto SUBGROUP = VK_SCOPE_SUBGROUP_KHR;

vk::Caps caps_with(std::initializer_list<Feature> enabled) {
  vk::Caps c;
  for (Feature f : enabled) c.features[size_t(f)] = {true, true};
  return c;
}

vk::Caps nvidia_like() {
  vk::Caps c = caps_with({Feature::Coopmat, Feature::Fp16Arith, Feature::Storage16, Feature::MemoryModel,
                          Feature::SubgroupSizeControl, Feature::FullSubgroups});
  c.subgroup_size = c.min_subgroup_size = c.max_subgroup_size = 32;
  c.coopmat_shapes = {{16, 8, 16, F16, F16, F16, F16, SUBGROUP},
                      {16, 8, 8, F16, F16, F32, F32, SUBGROUP},
                      {16, 8, 16, F16, F16, F32, F32, SUBGROUP},
                      {16, 8, 32, U8, U8, U32, U32, SUBGROUP}};
  return c;
}

vk::Caps amd_like() {
  vk::Caps c = caps_with({Feature::Coopmat, Feature::Fp16Arith, Feature::Storage16, Feature::MemoryModel,
                          Feature::SubgroupSizeControl, Feature::FullSubgroups});
  c.subgroup_size = 64;
  c.min_subgroup_size = 32;
  c.max_subgroup_size = 64;
  c.coopmat_shapes = {{16, 16, 16, F16, F16, F16, F16, SUBGROUP}, {16, 16, 16, F16, F16, F32, F32, SUBGROUP}};
  return c;
}

TEST(CoopmatChoice, NvidiaLikePicksTheLargestF32AccumulatorShape) {
  const auto choice = kernels::select_coopmat(nvidia_like());
  ASSERT_TRUE(choice);
  EXPECT_EQ(choice->shape.m, 16u);
  EXPECT_EQ(choice->shape.n, 8u);
  EXPECT_EQ(choice->shape.k, 16u);
  EXPECT_EQ(choice->shape.c, F32);
  EXPECT_EQ(choice->subgroup_size, 32u);
}

TEST(CoopmatChoice, AmdLikePinsWave32) {
  const auto choice = kernels::select_coopmat(amd_like());
  ASSERT_TRUE(choice);
  EXPECT_EQ(choice->shape.m, 16u);
  EXPECT_EQ(choice->shape.n, 16u);
  EXPECT_EQ(choice->shape.k, 16u);
  EXPECT_EQ(choice->subgroup_size, 32u);
}

TEST(CoopmatChoice, WithoutSubgroupSizeControlUsesTheDefaultSize) {
  vk::Caps c = amd_like();
  c.features[size_t(Feature::SubgroupSizeControl)].enabled = false;
  const auto choice = kernels::select_coopmat(c);
  ASSERT_TRUE(choice);
  EXPECT_EQ(choice->subgroup_size, 64u);
}

TEST(CoopmatChoice, NoneWithoutTheFeatureOrAnF32Accumulator) {
  EXPECT_FALSE(kernels::select_coopmat(caps_with({Feature::Fp16Arith, Feature::Storage16})));
  vk::Caps supported_not_enabled = nvidia_like();
  supported_not_enabled.features[size_t(Feature::Coopmat)].enabled = false;
  EXPECT_FALSE(kernels::select_coopmat(supported_not_enabled));
  // Only an fp16 accumulator listed: never declare an f32 one the device did not offer.
  vk::Caps f16_only = nvidia_like();
  f16_only.coopmat_shapes = {{16, 16, 16, F16, F16, F16, F16, SUBGROUP}};
  EXPECT_FALSE(kernels::select_coopmat(f16_only));
  vk::Caps workgroup_scope = nvidia_like();
  workgroup_scope.coopmat_shapes = {{64, 64, 16, F16, F16, F32, F32, VK_SCOPE_WORKGROUP_KHR}};
  EXPECT_FALSE(kernels::select_coopmat(workgroup_scope));
}

// Reduction workgroups (shaders/common/workgroup_reduce.glsl): on a GPU, the power of two
// covering the row, never below a subgroup nor above 256 or the device's limits.
TEST(ReduceWorkgroup, CoversTheRowWithinSubgroupAndDeviceLimits) {
  vk::Caps c;
  c.subgroup_size = 32;
  c.max_workgroup_invocations = 1024;
  c.max_workgroup_size = {1024, 1024, 64};
  EXPECT_EQ(kernels::reduce_workgroup_size(c, 100), 128u);
  EXPECT_EQ(kernels::reduce_workgroup_size(c, 128), 128u);
  EXPECT_EQ(kernels::reduce_workgroup_size(c, 129), 256u);
  EXPECT_EQ(kernels::reduce_workgroup_size(c, 5), 32u);
  EXPECT_EQ(kernels::reduce_workgroup_size(c, 0), 32u);
  EXPECT_EQ(kernels::reduce_workgroup_size(c, 100000), 256u);
  c.subgroup_size = 0;  // unknown: one invocation is the floor
  EXPECT_EQ(kernels::reduce_workgroup_size(c, 1), 1u);
  c.max_workgroup_size = {192, 192, 64};  // not a power of two: the one below it
  EXPECT_EQ(kernels::reduce_workgroup_size(c, 1000), 128u);
  c.max_workgroup_invocations = 64;
  EXPECT_EQ(kernels::reduce_workgroup_size(c, 1000), 64u);
}

// On a CPU device a workgroup is one subgroup whatever the row: its barriers switch between
// every subgroup of the workgroup (measured on lavapipe: layer norm over 4096 rows of 128,
// 65 → 4 ms).
TEST(ReduceWorkgroup, OneSubgroupOnACpuDevice) {
  vk::Caps c;
  c.type = VK_PHYSICAL_DEVICE_TYPE_CPU;
  c.subgroup_size = 8;
  c.max_workgroup_invocations = 1024;
  c.max_workgroup_size = {1024, 1024, 64};
  EXPECT_EQ(kernels::reduce_workgroup_size(c, 128), 8u);
  EXPECT_EQ(kernels::reduce_workgroup_size(c, 100000), 8u);
  EXPECT_EQ(kernels::reduce_workgroup_size(c, 1), 8u);
}

// The fused attention: coopmat on a GPU with fp16 activations and a head dim its tile divides,
// in the largest tiles the shared memory holds; scalar on a CPU device, for fp32 activations
// and for head dims off the tile; a forced coopmat that cannot run throws.
TEST(AttentionChoice, CoopmatWhereItFits) {
  using kernels::AttentionVariant;
  using kernels::ElemType;
  vk::Caps gpu = nvidia_like();  // 16×8×16: tiles of a multiple of 16 rows, head dims of 16
  gpu.type = VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU;
  gpu.max_shared_memory = 48 * 1024;
  const auto c = kernels::select_attention(gpu, ElemType::F16, 64);
  EXPECT_EQ(c.variant, AttentionVariant::Coopmat);
  EXPECT_EQ(c.block % 16, 0u);
  EXPECT_LE(kernels::attention_coopmat_shared_bytes(c.block, 64), gpu.max_shared_memory);
  EXPECT_GT(kernels::attention_coopmat_shared_bytes(c.block + 16, 64), gpu.max_shared_memory);
  EXPECT_EQ(kernels::select_attention(gpu, ElemType::F32, 64).variant, AttentionVariant::Scalar);
  EXPECT_EQ(kernels::select_attention(gpu, ElemType::F16, 40).variant, AttentionVariant::Scalar);
  EXPECT_THROW((void)kernels::select_attention(gpu, ElemType::F16, 40, AttentionVariant::Coopmat), Error);
  EXPECT_THROW((void)kernels::select_attention(gpu, ElemType::F32, 64, AttentionVariant::Coopmat), Error);
  gpu.max_shared_memory = 1024;
  EXPECT_EQ(kernels::select_attention(gpu, ElemType::F16, 64).variant, AttentionVariant::Scalar);
  vk::Caps cpu = nvidia_like();
  cpu.type = VK_PHYSICAL_DEVICE_TYPE_CPU;
  cpu.max_shared_memory = 32 * 1024;
  EXPECT_EQ(kernels::select_attention(cpu, ElemType::F16, 64).variant, AttentionVariant::Scalar);
  EXPECT_EQ(kernels::select_attention(cpu, ElemType::F16, 64, AttentionVariant::Coopmat).variant,
            AttentionVariant::Coopmat);
}

}  // namespace
}  // namespace vkgrad::test
