// The per-Context dispatch table: every Vulkan call of the engine goes through one of these.
//
// Device-level entry points come from volk's VolkDeviceTable; the few instance-level ones the
// engine needs are listed below and loaded through the Context's vkGetInstanceProcAddr (the
// system loader's, or a host application's when embedding). Tests overwrite entries through
// ContextCreateInfo::patch_dispatch to inject faults. Read-only after creation.
#pragma once

#include <volk.h>

namespace vkgrad::vk {

#define VKGRAD_INSTANCE_FUNCTIONS(X)                  \
  X(vkDestroyInstance)                                \
  X(vkEnumeratePhysicalDevices)                       \
  X(vkGetPhysicalDeviceProperties)                    \
  X(vkGetPhysicalDeviceProperties2)                   \
  X(vkGetPhysicalDeviceFeatures2)                     \
  X(vkGetPhysicalDeviceQueueFamilyProperties)         \
  X(vkGetPhysicalDeviceMemoryProperties)              \
  X(vkGetPhysicalDeviceMemoryProperties2)             \
  X(vkEnumerateDeviceExtensionProperties)             \
  X(vkCreateDevice)                                   \
  X(vkGetDeviceProcAddr)                              \
  X(vkGetPhysicalDeviceCooperativeMatrixPropertiesKHR) \
  X(vkGetPhysicalDeviceCooperativeMatrixFlexibleDimensionsPropertiesNV) \
  X(vkCreateDebugUtilsMessengerEXT)                   \
  X(vkDestroyDebugUtilsMessengerEXT)

struct InstanceTable {
#define VKGRAD_DECLARE(name) PFN_##name name = nullptr;
  VKGRAD_INSTANCE_FUNCTIONS(VKGRAD_DECLARE)
#undef VKGRAD_DECLARE
};

struct DispatchTable {
  PFN_vkGetInstanceProcAddr get_instance_proc_addr = nullptr;
  PFN_vkGetDeviceProcAddr get_device_proc_addr = nullptr;  // a host's; null: the instance's
  InstanceTable instance;
  VolkDeviceTable device;
};

// Fills `table.instance` from `instance` (or only the global entry points when null).
void load_instance_table(DispatchTable& table, VkInstance instance);
// Fills `table.device` for `device`, through table.get_device_proc_addr where set (and fills
// that in from the instance otherwise).
void load_device_table(DispatchTable& table, VkInstance instance, VkDevice device);

}  // namespace vkgrad::vk
