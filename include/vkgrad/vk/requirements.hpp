// vkgrad::vk::DeviceRequirements — what vkgrad needs of a Vulkan device and what it uses where
// present, as the extension names and feature structs vkCreateDevice takes. vkgrad builds its
// own devices from it; a host application that owns its device (a game or graphics engine)
// builds one for the physical device it chose, merges it into its own VkDeviceCreateInfo with
// add_to(), creates the device, and adopts it with features() and extensions() as
// AdoptInfo::enabled and AdoptInfo::extensions.
//
// Owns the feature structs it links into a chain: keep it alive until vkCreateDevice returns.
// Neither copyable nor movable (the chain points into it); one thread at a time.
#pragma once

#include "vkgrad/vk/caps.hpp"

#include <span>
#include <string>
#include <vector>

namespace vkgrad::vk {

class DeviceRequirements {
public:
  // Reads the physical device through the host's loader entry point. `disable` keeps optional
  // features off (as ContextCreateInfo::disable). Throws Error listing everything required that
  // the device lacks (Vulkan 1.3, synchronization2, maintenance4, VK_KHR_push_descriptor).
  DeviceRequirements(PFN_vkGetInstanceProcAddr get_instance_proc_addr, VkInstance instance,
                     VkPhysicalDevice physical_device, std::span<const Feature> disable = {});
  DeviceRequirements(const DeviceRequirements&) = delete;
  DeviceRequirements& operator=(const DeviceRequirements&) = delete;

  // The device's capabilities, with the features this enables marked enabled (workarounds for
  // known driver faults applied and listed in Caps::workarounds).
  const Caps& caps() const { return caps_; }
  std::vector<Feature> features() const;                  // enabled: for AdoptInfo::enabled
  std::vector<std::string> extensions() const;            // to enable: for AdoptInfo::extensions
  const std::vector<const char*>& extension_names() const { return extension_names_; }
  // vkgrad's own chain: VkPhysicalDeviceFeatures2 → 1.1 → 1.2 → 1.3 [→ cooperative matrix [→ 2]].
  const VkPhysicalDeviceFeatures2& chain() const { return features2_; }
  // Merges into a host's device creation: ORs vkgrad's feature bits into the host's structs of
  // the same type in `host_features`' pNext chain, links vkgrad's structs the host has none of
  // at the chain's end, and adds the extension names the host lacks. Relinks vkgrad's structs:
  // use either chain() or add_to(), once.
  void add_to(VkPhysicalDeviceFeatures2& host_features, std::vector<const char*>& host_extensions);

private:
  Caps caps_;
  std::vector<const char*> extension_names_;
  VkPhysicalDeviceCooperativeMatrix2FeaturesNV coopmat2_{};
  VkPhysicalDeviceCooperativeMatrixFeaturesKHR coopmat_{};
  VkPhysicalDeviceVulkan13Features f13_{};
  VkPhysicalDeviceVulkan12Features f12_{};
  VkPhysicalDeviceVulkan11Features f11_{};
  VkPhysicalDeviceFeatures2 features2_{};
};

// What a device with these features and extensions enabled lacks of vkgrad's requirements, one
// entry each ("synchronization2 (VkPhysicalDeviceVulkan13Features)", "VK_KHR_push_descriptor
// (a device extension)"); empty when nothing is missing.
std::vector<std::string> missing_requirements(std::span<const Feature> enabled, std::span<const std::string> extensions);

}  // namespace vkgrad::vk
