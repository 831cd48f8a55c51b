// vkgrad::vk::TimelinePoint and SubmitSync: timeline-semaphore points a vkgrad submission waits
// on and signals, for ordering its work with a host application's. Plain values; thread-safe.
#pragma once

#include <vulkan/vulkan_core.h>

#include <cstdint>
#include <span>

namespace vkgrad::vk {

// A point on a timeline semaphore: a submission waits until it reaches `value`, or signals it.
struct TimelinePoint {
  VkSemaphore semaphore = VK_NULL_HANDLE;
  uint64_t value = 0;
};

// Semaphores a submission waits on (before any of its work) and signals (after all of it),
// for ordering vkgrad's work with a host's on the same or another queue.
struct SubmitSync {
  std::span<const TimelinePoint> wait;
  std::span<const TimelinePoint> signal;
};

}  // namespace vkgrad::vk
