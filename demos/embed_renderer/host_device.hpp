// The engine side of embed_renderer: what a game or graphics engine already has before it adopts
// vkgrad. Its own VkInstance (with the Khronos validation layer and synchronization validation
// when VKGRAD_VALIDATION=1, every message counted), a physical device, a VkDevice created with
// vkgrad's requirements merged into the engine's own features (vk::DeviceRequirements::add_to),
// a graphics queue, and the queue training runs on: a second queue where the device has one,
// otherwise the graphics queue itself, shared under a mutex that vkgrad takes through
// AdoptInfo::lock_queue. Plain Vulkan through the system loader; vkgrad never creates any of it.
// Owns every handle it creates; one thread at a time, except `queue_mutex`.
#pragma once

#include "vkgrad/vk/context.hpp"

#include <vulkan/vulkan.h>

#include <atomic>
#include <cstdint>
#include <mutex>
#include <span>
#include <string>
#include <vector>

// A buffer with its own memory, persistently mapped where host-visible. (An engine has its own
// allocator; the demo's handful of long-lived buffers take one dedicated allocation each.)
struct HostBuffer {
  VkBuffer buffer = VK_NULL_HANDLE;
  VkDeviceMemory memory = VK_NULL_HANDLE;
  VkDeviceSize size = 0;
  void* mapped = nullptr;
};

enum class QueueChoice { Auto, Own, Shared };

class HostDevice {
public:
  HostDevice(QueueChoice queues, bool validation);
  ~HostDevice();
  HostDevice(const HostDevice&) = delete;
  HostDevice& operator=(const HostDevice&) = delete;

  // What vkgrad adopts: these handles, the loader's entry points, the training queue (with the
  // lock callbacks when it is the graphics queue) and the features and extensions enabled.
  vkgrad::vk::AdoptInfo adopt_info();

  // Host-visible, coherent and mapped (device-local too where the device has such memory);
  // shared by `families` when they differ.
  HostBuffer create_buffer(VkDeviceSize size, VkBufferUsageFlags usage, std::span<const uint32_t> families);
  void destroy(HostBuffer& b);
  uint32_t memory_type(uint32_t type_bits, VkMemoryPropertyFlags required, VkMemoryPropertyFlags preferred = 0) const;

  // Submits `cmd` on `queue`, signalling `semaphore` (a timeline) to `value`; holds
  // queue_mutex when the queue is shared with vkgrad.
  void submit(VkQueue queue, VkCommandBuffer cmd, VkSemaphore semaphore, uint64_t value);
  void wait(VkSemaphore semaphore, uint64_t value) const;
  VkSemaphore create_timeline();

  uint32_t validation_errors() const { return errors_; }
  uint32_t validation_warnings() const { return warnings_; }

  VkInstance instance = VK_NULL_HANDLE;
  VkPhysicalDevice physical = VK_NULL_HANDLE;
  VkPhysicalDeviceProperties properties{};
  VkDevice device = VK_NULL_HANDLE;
  uint32_t graphics_family = 0, train_family = 0;
  VkQueue graphics_queue = VK_NULL_HANDLE, train_queue = VK_NULL_HANDLE;
  bool shared_queue = false;  // training on the graphics queue
  bool fp16_storage = false;  // the exported weights may be FP16
  std::mutex queue_mutex;

private:
  static VKAPI_ATTR VkBool32 VKAPI_CALL on_message(VkDebugUtilsMessageSeverityFlagBitsEXT severity,
                                                   VkDebugUtilsMessageTypeFlagsEXT, const VkDebugUtilsMessengerCallbackDataEXT* data,
                                                   void* self);
  VkDebugUtilsMessengerEXT messenger_ = VK_NULL_HANDLE;
  std::vector<vkgrad::vk::Feature> features_;
  std::vector<std::string> extensions_;
  std::atomic<uint32_t> errors_ = 0, warnings_ = 0;  // the layer calls back on any thread
};
