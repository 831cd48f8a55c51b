#include "descriptor_sets.hpp"

#include "dispatch.hpp"
#include "vkgrad/error.hpp"
#include "vkgrad/vk/context.hpp"

namespace vkgrad::vk {
namespace {

// Sets per pool and storage-buffer descriptors per pool (kernels bind at most a handful each).
constexpr uint32_t kSetsPerPool = 256;
constexpr uint32_t kBuffersPerPool = kSetsPerPool * 8;

}  // namespace

DescriptorSets::DescriptorSets(Context& ctx) : ctx_(ctx) {}

DescriptorSets::~DescriptorSets() {
  for (VkDescriptorPool p : pools_) ctx_.vk().device.vkDestroyDescriptorPool(ctx_.device(), p, nullptr);
}

VkDescriptorPool DescriptorSets::new_pool() {
  const VkDescriptorPoolSize size{VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, kBuffersPerPool};
  VkDescriptorPoolCreateInfo ci{VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO};
  ci.flags = VK_DESCRIPTOR_POOL_CREATE_FREE_DESCRIPTOR_SET_BIT;
  ci.maxSets = kSetsPerPool;
  ci.poolSizeCount = 1;
  ci.pPoolSizes = &size;
  VkDescriptorPool pool = VK_NULL_HANDLE;
  check(ctx_.vk().device.vkCreateDescriptorPool(ctx_.device(), &ci, nullptr, &pool), "vkCreateDescriptorPool");
  pools_.push_back(pool);
  return pool;
}

VkDescriptorSet DescriptorSets::get(VkDescriptorSetLayout layout, std::span<const VkDescriptorBufferInfo> buffers) {
  Key key{layout, {}};
  for (const auto& b : buffers) std::get<1>(key).emplace_back(b.buffer, b.offset, b.range);
  if (const auto it = sets_.find(key); it != sets_.end()) return it->second.set;

  const auto& d = ctx_.vk().device;
  VkDescriptorSetAllocateInfo ai{VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO};
  ai.descriptorSetCount = 1;
  ai.pSetLayouts = &layout;
  VkDescriptorSet set = VK_NULL_HANDLE;
  VkResult r = VK_ERROR_OUT_OF_POOL_MEMORY;
  if (!pools_.empty()) {
    ai.descriptorPool = pools_.back();
    r = d.vkAllocateDescriptorSets(ctx_.device(), &ai, &set);
  }
  if (r == VK_ERROR_OUT_OF_POOL_MEMORY || r == VK_ERROR_FRAGMENTED_POOL) {
    ai.descriptorPool = new_pool();
    r = d.vkAllocateDescriptorSets(ctx_.device(), &ai, &set);
  }
  check(r, "vkAllocateDescriptorSets");
  std::vector<VkWriteDescriptorSet> writes(buffers.size());
  for (uint32_t i = 0; i < buffers.size(); ++i) {
    writes[i] = {VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET};
    writes[i].dstSet = set;
    writes[i].dstBinding = i;
    writes[i].descriptorCount = 1;
    writes[i].descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
    writes[i].pBufferInfo = &buffers[i];
  }
  d.vkUpdateDescriptorSets(ctx_.device(), uint32_t(writes.size()), writes.data(), 0, nullptr);
  sets_.emplace(std::move(key), Entry{set, ai.descriptorPool});
  return set;
}

void DescriptorSets::forget(VkBuffer buffer) {
  const auto& d = ctx_.vk().device;
  for (auto it = sets_.begin(); it != sets_.end();) {
    bool holds = false;
    for (const auto& b : std::get<1>(it->first)) holds = holds || std::get<0>(b) == buffer;
    if (!holds) {
      ++it;
      continue;
    }
    d.vkFreeDescriptorSets(ctx_.device(), it->second.pool, 1, &it->second.set);
    it = sets_.erase(it);
  }
}

}  // namespace vkgrad::vk
