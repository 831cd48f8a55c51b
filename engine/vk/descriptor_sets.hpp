// Descriptor sets for devices (or hosts) without VK_KHR_push_descriptor: the same recorded
// passes bind each dispatch's buffers through a set made once per distinct (layout, buffer
// ranges) and reused whenever a pass is recorded again, so recording every frame allocates
// nothing new. Sets holding a buffer are freed when the buffer is destroyed. Owned by a Context;
// not thread-safe (as its Context).
#pragma once

#include <vulkan/vulkan_core.h>

#include <map>
#include <span>
#include <tuple>
#include <vector>

namespace vkgrad::vk {

class Context;

class DescriptorSets {
public:
  explicit DescriptorSets(Context& ctx);
  ~DescriptorSets();
  DescriptorSets(const DescriptorSets&) = delete;
  DescriptorSets& operator=(const DescriptorSets&) = delete;

  // A set of `layout` (storage buffers at bindings 0..n-1) holding `buffers`.
  VkDescriptorSet get(VkDescriptorSetLayout layout, std::span<const VkDescriptorBufferInfo> buffers);
  // Frees the sets that hold `buffer` (it is being destroyed).
  void forget(VkBuffer buffer);
  size_t live() const { return sets_.size(); }

private:
  using Key = std::tuple<VkDescriptorSetLayout, std::vector<std::tuple<VkBuffer, VkDeviceSize, VkDeviceSize>>>;
  struct Entry {
    VkDescriptorSet set;
    VkDescriptorPool pool;
  };
  VkDescriptorPool new_pool();

  Context& ctx_;
  std::vector<VkDescriptorPool> pools_;
  std::map<Key, Entry> sets_;
};

}  // namespace vkgrad::vk
