// Listing physical devices once each, and the loader to list them with (internal).
#pragma once

#include "dispatch.hpp"
#include "vkgrad/vk/context.hpp"

#include <array>
#include <cstdint>
#include <span>
#include <vector>

namespace vkgrad::vk {

using Uuid = std::array<uint8_t, VK_UUID_SIZE>;

// Indices of the first occurrence of each UUID, in order: one GPU exposed by two driver
// manifests (a common container set-up) is listed once.
std::vector<size_t> first_of_each_uuid(std::span<const Uuid> uuids);

// Physical devices of `instance`, duplicates dropped.
std::vector<VkPhysicalDevice> unique_physical_devices(const DispatchTable& vk, VkInstance instance);
std::vector<DeviceSummary> summarize(const DispatchTable& vk, std::span<const VkPhysicalDevice> pds);

// `given`, or the system loader's vkGetInstanceProcAddr; throws Error when there is none.
PFN_vkGetInstanceProcAddr resolve_loader(PFN_vkGetInstanceProcAddr given);

}  // namespace vkgrad::vk
