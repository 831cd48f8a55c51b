// vk::DeviceRequirements as a host engine uses it: merged into the host's own device creation
// (its feature structs ORed, the ones it lacks appended, extensions added), the device created
// by the test, adopted, and a kernel run on it; and the errors that list everything missing.
#include "adoption.hpp"
#include "vk/descriptor_sets.hpp"
#include "numerics.hpp"
#include "vk_fixture.hpp"
#include "vkgrad/error.hpp"
#include "vkgrad/vk/buffer.hpp"
#include "vkgrad/vk/requirements.hpp"
#include "vk/dispatch.hpp"

#include <algorithm>
#include <string>

namespace vkgrad::test {
namespace {

using kernels::ElemType;
using vk::Feature;

using RequirementsTest = VkTest;

bool lists(const std::vector<const char*>& names, std::string_view name) {
  return std::any_of(names.begin(), names.end(), [&](const char* n) { return name == n; });
}

TEST_F(RequirementsTest, HostDeviceBuiltWithThemIsAdopted) {
  vk::Context& ctx = context();
  const auto gipa = ctx.vk().get_instance_proc_addr;
  vk::DeviceRequirements req(gipa, ctx.instance(), ctx.physical_device());
  for (Feature f : {Feature::Synchronization2, Feature::Maintenance4})
    EXPECT_NE(std::find(req.features().begin(), req.features().end(), f), req.features().end()) << vk::feature_name(f);
  EXPECT_TRUE(lists(req.extension_names(), VK_KHR_PUSH_DESCRIPTOR_EXTENSION_NAME));

  // The host's own chain: 1.2 features with a bit vkgrad does not use, nothing for 1.1 or 1.3.
  VkPhysicalDeviceVulkan12Features host12{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES};
  host12.scalarBlockLayout = VK_TRUE;
  VkPhysicalDeviceFeatures2 host{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2, &host12};
  std::vector<const char*> extensions;
  req.add_to(host, extensions);
  EXPECT_TRUE(host12.scalarBlockLayout) << "the host's own bit survives";
  EXPECT_EQ(host12.timelineSemaphore, req.caps().enabled(Feature::TimelineSemaphore) ? VK_TRUE : VK_FALSE);
  int count11 = 0, count12 = 0, count13 = 0;
  for (auto* s = reinterpret_cast<const VkBaseInStructure*>(host.pNext); s; s = s->pNext) {
    count11 += s->sType == VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES;
    count12 += s->sType == VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES;
    count13 += s->sType == VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_3_FEATURES;
  }
  EXPECT_EQ(count12, 1) << "the host's 1.2 struct is merged into, not joined by a second";
  EXPECT_EQ(count11, 1) << "vkgrad's 1.1 struct is appended";
  EXPECT_EQ(count13, 1) << "vkgrad's 1.3 struct is appended";
  EXPECT_EQ(extensions.size(), req.extension_names().size());

  // The host creates its device and a queue.
  const float priority = 1.0f;
  VkDeviceQueueCreateInfo queue_info{VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO};
  queue_info.queueFamilyIndex = ctx.queue_family();
  queue_info.queueCount = 1;
  queue_info.pQueuePriorities = &priority;
  VkDeviceCreateInfo ci{VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO, &host};
  ci.queueCreateInfoCount = 1;
  ci.pQueueCreateInfos = &queue_info;
  ci.enabledExtensionCount = uint32_t(extensions.size());
  ci.ppEnabledExtensionNames = extensions.data();
  const auto& in = ctx.vk().instance;
  VkDevice device = VK_NULL_HANDLE;
  ASSERT_EQ(in.vkCreateDevice(ctx.physical_device(), &ci, nullptr, &device), VK_SUCCESS);
  const auto gdpa = in.vkGetDeviceProcAddr;
  const auto get_queue = reinterpret_cast<PFN_vkGetDeviceQueue>(gdpa(device, "vkGetDeviceQueue"));
  const auto destroy = reinterpret_cast<PFN_vkDestroyDevice>(gdpa(device, "vkDestroyDevice"));
  VkQueue queue = VK_NULL_HANDLE;
  get_queue(device, ctx.queue_family(), 0, &queue);
  {
    vk::AdoptInfo adopt = adoption_of(ctx);
    adopt.get_device_proc_addr = gdpa;
    adopt.device = device;
    adopt.queue = queue;
    adopt.enabled = req.features();
    adopt.extensions = req.extensions();
    vk::Context guest(adopt);
    EXPECT_EQ(guest.caps().enabled(Feature::BufferDeviceAddress), req.caps().enabled(Feature::BufferDeviceAddress));
    expect_f32_add_runs(guest);
  }
  destroy(device, nullptr);
}

// Everything missing is named at once, with where to find it.
TEST(Requirements, MissingOnesAreAllListed) {
  const auto none = vk::missing_requirements({}, {});
  ASSERT_EQ(none.size(), 2u);
  const std::string all = none[0] + none[1];
  for (const char* what : {"synchronization2", "maintenance4"}) EXPECT_NE(all.find(what), std::string::npos) << all;
  const Feature both[] = {Feature::Synchronization2, Feature::Maintenance4};
  EXPECT_TRUE(vk::missing_requirements(both, {}).empty()) << "VK_KHR_push_descriptor is optional";
}

TEST_F(RequirementsTest, AdoptingADeviceWithoutThemSaysWhatIsMissing) {
  vk::AdoptInfo adopt = adoption_of(context());
  adopt.extensions.clear();
  adopt.enabled = {Feature::Synchronization2};  // maintenance4 not declared
  try {
    vk::Context guest(adopt);
    FAIL() << "expected vkgrad::Error";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("maintenance4"), std::string::npos) << what;
    EXPECT_EQ(what.find("synchronization2"), std::string::npos) << what;
    EXPECT_NE(what.find("DeviceRequirements"), std::string::npos) << what;
  }
}

// A host that did not enable VK_KHR_push_descriptor: the passes bind descriptor sets instead.
TEST_F(RequirementsTest, AHostWithoutPushDescriptorsGetsDescriptorSets) {
  vk::AdoptInfo adopt = adoption_of(context());
  std::erase(adopt.extensions, std::string(VK_KHR_PUSH_DESCRIPTOR_EXTENSION_NAME));
  vk::Context guest(adopt);
  EXPECT_FALSE(guest.caps().enabled(Feature::PushDescriptor));
  ASSERT_NE(guest.descriptor_sets(), nullptr);
  expect_f32_add_runs(guest);
  EXPECT_EQ(guest.descriptor_sets()->live(), 0u) << "the kernel's sets went with its buffers";
}

}  // namespace
}  // namespace vkgrad::test
