#include "vkgrad/vk/requirements.hpp"

#include "caps_query.hpp"
#include "dispatch.hpp"
#include "vkgrad/error.hpp"

#include <algorithm>

namespace vkgrad::vk {
namespace {

bool has(std::span<const std::string> list, std::string_view name) {
  return std::find(list.begin(), list.end(), name) != list.end();
}

bool has(std::span<const Feature> list, Feature f) { return std::find(list.begin(), list.end(), f) != list.end(); }

// Every required item, with where a host finds it.
struct Required {
  Feature feature;
  const char* where;
};
constexpr Required kRequiredFeatures[] = {{Feature::Synchronization2, "VkPhysicalDeviceVulkan13Features"},
                                          {Feature::Maintenance4, "VkPhysicalDeviceVulkan13Features"}};

std::string joined(const std::vector<std::string>& items) {
  std::string s;
  for (const auto& item : items) s += (s.empty() ? "" : ", ") + item;
  return s;
}

// The host's struct of type `type` in a pNext chain, or null.
VkBaseOutStructure* find_in_chain(VkPhysicalDeviceFeatures2& head, VkStructureType type) {
  for (auto* s = reinterpret_cast<VkBaseOutStructure*>(head.pNext); s; s = s->pNext)
    if (s->sType == type) return s;
  return nullptr;
}

}  // namespace

std::vector<std::string> missing_requirements(std::span<const Feature> enabled,
                                              std::span<const std::string> extensions) {
  std::vector<std::string> missing;
  for (const Required& r : kRequiredFeatures)
    if (!has(enabled, r.feature)) missing.push_back(std::string(feature_name(r.feature)) + " (" + r.where + ")");
  (void)extensions;  // none required: VK_KHR_push_descriptor is used where enabled
  return missing;
}

DeviceRequirements::DeviceRequirements(PFN_vkGetInstanceProcAddr get_instance_proc_addr, VkInstance instance,
                                       VkPhysicalDevice physical_device, std::span<const Feature> disable) {
  if (!get_instance_proc_addr || !instance || !physical_device)
    throw Error("DeviceRequirements needs vkGetInstanceProcAddr, an instance and a physical device",
                "pass the handles the device will be created from");
  DispatchTable vk;
  vk.get_instance_proc_addr = get_instance_proc_addr;
  load_instance_table(vk, instance);
  caps_ = query_caps(vk, physical_device);
  const auto exts = device_extensions(vk, physical_device);

  std::vector<std::string> lacking;
  if (caps_.api_version < VK_API_VERSION_1_3)
    lacking.push_back("Vulkan 1.3 (it supports " + std::to_string(VK_API_VERSION_MAJOR(caps_.api_version)) + "." +
                      std::to_string(VK_API_VERSION_MINOR(caps_.api_version)) + ")");
  std::vector<Feature> supported;
  for (size_t i = 0; i < kFeatureCount; ++i)
    if (caps_.features[i].supported) supported.push_back(Feature(i));
  const auto missing = missing_requirements(supported, exts);
  lacking.insert(lacking.end(), missing.begin(), missing.end());
  if (!lacking.empty())
    throw Error("device '" + caps_.name + "' lacks what vkgrad needs: " + joined(lacking),
                "update the driver or choose another device (VKGRAD_DEVICE, `vkgrad-info` lists them)");

  for (size_t i = 0; i < kFeatureCount; ++i) {
    auto& f = caps_.features[i];
    f.enabled = f.supported && !has(disable, Feature(i));
  }
  for (const Required& r : kRequiredFeatures) caps_.features[size_t(r.feature)].enabled = true;
  // Mesa's lavapipe at 512 bits (LP_NATIVE_VECTOR_WIDTH=512, subgroup 16) crashes inside
  // vkCreateComputePipelines on every cooperative-matrix kernel of ours (seen on 26.1.6; newer
  // versions are given the chance).
  if (caps_.driver_id == VK_DRIVER_ID_MESA_LLVMPIPE && caps_.subgroup_size > 8 &&
      caps_.driver_version <= VK_MAKE_API_VERSION(0, 26, 1, 99) && caps_.enabled(Feature::Coopmat)) {
    caps_.features[size_t(Feature::Coopmat)].enabled = false;
    caps_.workarounds.push_back("cooperativeMatrix off: lavapipe (Mesa <= 26.1) at subgroup size " +
                                std::to_string(caps_.subgroup_size) +
                                " crashes compiling cooperative-matrix kernels; the other GEMM variants serve");
  }
  // GL_KHR_cooperative_matrix kernels use fp16 arithmetic, 16-bit storage and the memory model
  // together; without all three there is no coopmat path to enable.
  auto& cm = caps_.features[size_t(Feature::Coopmat)];
  cm.enabled = cm.enabled && caps_.enabled(Feature::Fp16Arith) && caps_.enabled(Feature::Storage16) &&
               caps_.enabled(Feature::MemoryModel);
  auto& cm2 = caps_.features[size_t(Feature::Coopmat2)];
  cm2.enabled = cm2.enabled && cm.enabled;

  // Push descriptors where the device has them: the recorded passes then own no descriptor
  // memory (every desktop driver offers it; core in Vulkan 1.4).
  if (caps_.enabled(Feature::PushDescriptor)) extension_names_.push_back(VK_KHR_PUSH_DESCRIPTOR_EXTENSION_NAME);
  if (cm.enabled) extension_names_.push_back(VK_KHR_COOPERATIVE_MATRIX_EXTENSION_NAME);
  if (cm2.enabled) extension_names_.push_back(VK_NV_COOPERATIVE_MATRIX_2_EXTENSION_NAME);
  if (has(exts, VK_EXT_MEMORY_BUDGET_EXTENSION_NAME)) extension_names_.push_back(VK_EXT_MEMORY_BUDGET_EXTENSION_NAME);

  const auto on = [&](Feature f) -> VkBool32 { return caps_.enabled(f) ? VK_TRUE : VK_FALSE; };
  coopmat2_ = {VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_COOPERATIVE_MATRIX_2_FEATURES_NV};
  coopmat2_.cooperativeMatrixFlexibleDimensions = on(Feature::Coopmat2);
  coopmat2_.cooperativeMatrixPerElementOperations = on(Feature::Coopmat2);
  coopmat_ = {VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_COOPERATIVE_MATRIX_FEATURES_KHR, cm2.enabled ? &coopmat2_ : nullptr};
  coopmat_.cooperativeMatrix = on(Feature::Coopmat);
  f13_ = {VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_3_FEATURES, cm.enabled ? &coopmat_ : nullptr};
  f13_.synchronization2 = on(Feature::Synchronization2);
  f13_.subgroupSizeControl = on(Feature::SubgroupSizeControl);
  f13_.computeFullSubgroups = on(Feature::FullSubgroups);
  f13_.maintenance4 = on(Feature::Maintenance4);
  f12_ = {VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES, &f13_};
  f12_.shaderFloat16 = on(Feature::Fp16Arith);
  f12_.vulkanMemoryModel = on(Feature::MemoryModel);
  f12_.vulkanMemoryModelDeviceScope = on(Feature::MemoryModel);
  f12_.timelineSemaphore = on(Feature::TimelineSemaphore);
  f12_.hostQueryReset = on(Feature::HostQueryReset);
  f12_.bufferDeviceAddress = on(Feature::BufferDeviceAddress);
  f11_ = {VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES, &f12_};
  f11_.storageBuffer16BitAccess = on(Feature::Storage16);
  features2_ = {VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2, &f11_};
}

std::vector<Feature> DeviceRequirements::features() const {
  std::vector<Feature> out;
  for (size_t i = 0; i < kFeatureCount; ++i)
    if (caps_.features[i].enabled) out.push_back(Feature(i));
  return out;
}

std::vector<std::string> DeviceRequirements::extensions() const {
  return {extension_names_.begin(), extension_names_.end()};
}

void DeviceRequirements::add_to(VkPhysicalDeviceFeatures2& host, std::vector<const char*>& host_extensions) {
  for (const char* e : extension_names_)
    if (std::none_of(host_extensions.begin(), host_extensions.end(),
                     [&](const char* h) { return std::string_view(h) == e; }))
      host_extensions.push_back(e);
  // OR each VkBool32 member after the header: every member of these structs is a feature bit.
  const auto merge = [&](VkBaseOutStructure* mine, size_t size) {
    VkBaseOutStructure* theirs = find_in_chain(host, mine->sType);
    if (!theirs) {
      VkBaseOutStructure* tail = reinterpret_cast<VkBaseOutStructure*>(&host);
      while (tail->pNext) tail = tail->pNext;
      mine->pNext = nullptr;
      tail->pNext = mine;
      return;
    }
    const size_t n = (size - sizeof(VkBaseOutStructure)) / sizeof(VkBool32);
    auto* dst = reinterpret_cast<VkBool32*>(theirs + 1);
    const auto* src = reinterpret_cast<const VkBool32*>(mine + 1);
    for (size_t i = 0; i < n; ++i) dst[i] = dst[i] || src[i] ? VK_TRUE : VK_FALSE;
  };
  const bool cm = caps_.enabled(Feature::Coopmat), cm2 = caps_.enabled(Feature::Coopmat2);
  merge(reinterpret_cast<VkBaseOutStructure*>(&f11_), sizeof f11_);
  merge(reinterpret_cast<VkBaseOutStructure*>(&f12_), sizeof f12_);
  merge(reinterpret_cast<VkBaseOutStructure*>(&f13_), sizeof f13_);
  if (cm) merge(reinterpret_cast<VkBaseOutStructure*>(&coopmat_), sizeof coopmat_);
  if (cm2) merge(reinterpret_cast<VkBaseOutStructure*>(&coopmat2_), sizeof coopmat2_);
}

}  // namespace vkgrad::vk
