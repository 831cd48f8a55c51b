// Capability detection on the test device and every feature override.
#include "vk/dispatch.hpp"
#include "vk/env.hpp"
#include "adoption.hpp"
#include "f32_add.hpp"
#include "numerics.hpp"
#include "vk_fixture.hpp"
#include "vkgrad/error.hpp"
#include "vkgrad/vk/buffer.hpp"

#include <algorithm>
#include <bit>

namespace vkgrad::test {
namespace {

using kernels::ElemType;
using vk::Feature;

bool lists_f16_f32_shape(const vk::Caps& caps) {
  return std::any_of(caps.coopmat_shapes.begin(), caps.coopmat_shapes.end(), [&](const vk::CoopmatShape& s) {
    return s.m > 0 && s.n > 0 && s.k > 0 && s.a == VK_COMPONENT_TYPE_FLOAT16_KHR &&
           s.b == VK_COMPONENT_TYPE_FLOAT16_KHR && s.c == VK_COMPONENT_TYPE_FLOAT32_KHR &&
           s.result == VK_COMPONENT_TYPE_FLOAT32_KHR && s.scope == VK_SCOPE_SUBGROUP_KHR;
  });
}

using ContextTest = VkTest;

TEST_F(ContextTest, CapabilitiesAreConsistent) {
  const vk::Caps caps = context().caps();
  EXPECT_GE(caps.api_version, VK_API_VERSION_1_3);
  EXPECT_TRUE(caps.enabled(Feature::Synchronization2));
  EXPECT_GT(caps.subgroup_size, 0u);
  EXPECT_LE(caps.min_subgroup_size, caps.subgroup_size);
  EXPECT_GE(caps.max_subgroup_size, caps.subgroup_size);
  EXPECT_GE(caps.max_shared_memory, 16384u);  // Vulkan's required minimum
  EXPECT_GE(caps.max_workgroup_invocations, 128u);
  EXPECT_FALSE(caps.heaps.empty());
  for (size_t i = 0; i < vk::kFeatureCount; ++i)
    EXPECT_TRUE(!caps.features[i].enabled || caps.features[i].supported) << vk::feature_name(Feature(i));
}

// A device with cooperative matrices gets them enabled, with what the kernels need beside
// them, and lists a shape the GEMM can use. Vulkan 1.3 makes buffer device addresses universal.
TEST_F(ContextTest, SupportedFeaturesAreEnabledWithTheirDependencies) {
  const vk::Caps caps = context().caps();
  EXPECT_TRUE(caps.enabled(Feature::BufferDeviceAddress));
  EXPECT_TRUE(std::has_single_bit(caps.subgroup_size)) << caps.subgroup_size;
  if (!caps.supported(Feature::Coopmat)) GTEST_SKIP() << "needs cooperativeMatrix";
  // Off only with a workaround line saying why (a driver known to fail with it).
  const bool worked_around = std::ranges::any_of(
      caps.workarounds, [](const std::string& w) { return w.find("cooperativeMatrix") != std::string::npos; });
  if (worked_around) GTEST_SKIP() << caps.workarounds.front();
  EXPECT_TRUE(caps.enabled(Feature::Coopmat));
  EXPECT_TRUE(caps.enabled(Feature::Fp16Arith));
  EXPECT_TRUE(caps.enabled(Feature::Storage16));
  EXPECT_TRUE(caps.enabled(Feature::MemoryModel));
  EXPECT_TRUE(lists_f16_f32_shape(caps));
}

TEST_F(ContextTest, DisablingCoopmatLeavesItSupportedButOff) {
  if (const auto why = unsupported(context().caps(), {Feature::Coopmat, Feature::Fp16Arith, Feature::Storage16}); !why.empty()) GTEST_SKIP() << why;
  const vk::Caps caps = context({Feature::Coopmat}).caps();
  EXPECT_TRUE(caps.supported(Feature::Coopmat));
  EXPECT_FALSE(caps.enabled(Feature::Coopmat));
  EXPECT_TRUE(caps.enabled(Feature::Fp16Arith));
  EXPECT_TRUE(caps.enabled(Feature::Storage16));
}

// Coopmat kernels need fp16 arithmetic and 16-bit storage; switching either off takes coopmat too.
TEST_F(ContextTest, DisablingFp16ArithAlsoDisablesCoopmat) {
  if (const auto why = unsupported(context().caps(), {Feature::Fp16Arith, Feature::Storage16}); !why.empty()) GTEST_SKIP() << why;
  const vk::Caps caps = context({Feature::Fp16Arith}).caps();
  EXPECT_TRUE(caps.supported(Feature::Fp16Arith));
  EXPECT_FALSE(caps.enabled(Feature::Fp16Arith));
  EXPECT_FALSE(caps.enabled(Feature::Coopmat));
  EXPECT_TRUE(caps.enabled(Feature::Storage16));
}

TEST_F(ContextTest, DisablingStorage16AlsoDisablesCoopmat) {
  if (const auto why = unsupported(context().caps(), {Feature::Fp16Arith, Feature::Storage16}); !why.empty()) GTEST_SKIP() << why;
  const vk::Caps caps = context({Feature::Storage16}).caps();
  EXPECT_FALSE(caps.enabled(Feature::Storage16));
  EXPECT_FALSE(caps.enabled(Feature::Coopmat));
  EXPECT_TRUE(caps.enabled(Feature::Fp16Arith));
}

TEST(DisableList, ParsesOverrideNames) {
  EXPECT_EQ(vk::parse_disable_list(""), std::vector<Feature>{});
  EXPECT_EQ(vk::parse_disable_list("coopmat"), std::vector<Feature>{Feature::Coopmat});
  EXPECT_EQ(vk::parse_disable_list(" storage16 , fp16-arith,"),
            (std::vector<Feature>{Feature::Storage16, Feature::Fp16Arith}));
}

TEST(DisableList, RejectsUnknownNamesSayingWhatIsValid) {
  try {
    vk::parse_disable_list("coopmat,tensorcores");
    FAIL() << "expected vkgrad::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("tensorcores"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("fp16-arith"), std::string::npos) << e.what();
  }
}

// A host application's device adopted by a second Context: the adopting Context works on it
// and leaves it alive when destroyed.
TEST_F(ContextTest, AdoptedDeviceIsUsedAndNotDestroyed) {
  vk::Context& host = context();
  {
    vk::Context guest(adoption_of(host));
    EXPECT_FALSE(guest.owns_device());
    EXPECT_EQ(guest.caps().enabled(Feature::Coopmat), host.caps().enabled(Feature::Coopmat));
    expect_f32_add_runs(guest);
  }
  // The host's device still works after the guest is gone.
  vk::Buffer z(host, {.size = 16});
  const std::vector<double> twos(4, 2.0);
  const auto bytes = encode(ElemType::F32, twos);
  vk::upload(host, z, bytes.data(), bytes.size());
  std::vector<std::byte> out(16);
  vk::download(host, z, out.data(), out.size());
  EXPECT_EQ(decode(ElemType::F32, out, 4), twos);
}

TEST(AdoptInfoCheck, MissingHandlesAreRejected) {
  EXPECT_THROW(vk::Context(vk::AdoptInfo{}), Error);
}

}  // namespace
}  // namespace vkgrad::test
