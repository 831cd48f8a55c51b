// Reads a physical device's capabilities into Caps (internal to engine/vk).
#pragma once

#include "dispatch.hpp"
#include "vkgrad/vk/caps.hpp"

#include <string>
#include <vector>

namespace vkgrad::vk {

// Everything about `pd` except which features are enabled (all `enabled` stay false).
Caps query_caps(const DispatchTable& vk, VkPhysicalDevice pd);

std::vector<std::string> device_extensions(const DispatchTable& vk, VkPhysicalDevice pd);

// Heaps, with budget and usage from VK_EXT_memory_budget when `has_budget`.
std::vector<MemoryHeap> query_heaps(const DispatchTable& vk, VkPhysicalDevice pd, bool has_budget);

}  // namespace vkgrad::vk
