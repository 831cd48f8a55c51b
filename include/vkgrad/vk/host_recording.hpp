// The memory dependencies around work vkgrad records into a host's own command buffer
// (Trainer::record_step): `before` orders everything the host recorded or submitted earlier on
// the queue (writes to shared buffers included) before vkgrad's reads and writes; `after` makes
// vkgrad's writes (parameters, shared outputs, the step's record for the host to read)
// available to every later command and to the host. Global synchronization2 memory barriers,
// placed by vkgrad unless the caller says it places them itself. Plain values; thread-safe.
#pragma once

#include <vulkan/vulkan_core.h>

namespace vkgrad::vk {

struct HostDependencies {
  VkMemoryBarrier2 before{VK_STRUCTURE_TYPE_MEMORY_BARRIER_2};
  VkMemoryBarrier2 after{VK_STRUCTURE_TYPE_MEMORY_BARRIER_2};
};

HostDependencies host_dependencies();

}  // namespace vkgrad::vk
