// vkgrad::vk::PipelineRegistry — embedded SPIR-V + specialization constants → compute pipelines.
//
// Owns every pipeline, layout and descriptor-set layout it creates, and the VkPipelineCache,
// which it loads from and saves (atomically) to the user's cache folder, keyed by the device's
// pipelineCacheUUID. A pipeline is created once per distinct description and then reused.
// Owned by a Context; not thread-safe (one thread at a time, like its Context).
#pragma once

#include <vulkan/vulkan_core.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace vkgrad::vk {

class Context;

// One specialization constant: `constant_id` and its 32-bit value (bool, int, uint or the
// bits of a float).
struct SpecConstant {
  uint32_t id = 0;
  uint32_t value = 0;
  auto operator<=>(const SpecConstant&) const = default;
};

// What a kernel asks for. Every kernel binds its buffers as storage buffers 0..bindings-1 of
// descriptor set 0 and passes its arguments as one push-constant block at offset 0.
struct PipelineDesc {
  std::string shader;  // embedded SPIR-V name, e.g. "loss_scale_unscale"
  uint32_t bindings = 0;
  uint32_t push_constant_size = 0;  // bytes, <= 128
  std::vector<SpecConstant> spec;
  // Non-zero: pin the subgroup size (VkPipelineShaderStageRequiredSubgroupSizeCreateInfo) and
  // require full subgroups. The workgroup's x size must then be a multiple of it.
  uint32_t required_subgroup_size = 0;
  auto operator<=>(const PipelineDesc&) const = default;
};

struct Pipeline {
  VkPipeline pipeline = VK_NULL_HANDLE;
  VkPipelineLayout layout = VK_NULL_HANDLE;
  VkDescriptorSetLayout set_layout = VK_NULL_HANDLE;
  uint32_t bindings = 0;
  uint32_t push_constant_size = 0;
};

struct PipelineStats {
  uint32_t created = 0;      // distinct pipelines created by this registry
  double create_ms = 0;      // total time inside vkCreateComputePipelines
  bool cache_loaded = false;  // a VkPipelineCache file was found and accepted
};

class PipelineRegistry {
public:
  PipelineRegistry(Context& ctx, std::filesystem::path cache_file);
  ~PipelineRegistry();  // saves the cache when it grew
  PipelineRegistry(const PipelineRegistry&) = delete;
  PipelineRegistry& operator=(const PipelineRegistry&) = delete;

  const Pipeline& get(const PipelineDesc& desc);
  const PipelineStats& stats() const { return stats_; }
  // Writes the VkPipelineCache to its file now (temporary file, then rename).
  void save_cache();

private:
  VkDescriptorSetLayout set_layout(uint32_t bindings);

  Context& ctx_;
  std::filesystem::path cache_file_;
  VkPipelineCache cache_ = VK_NULL_HANDLE;
  std::map<uint32_t, VkDescriptorSetLayout> set_layouts_;
  std::map<std::pair<uint32_t, uint32_t>, VkPipelineLayout> layouts_;
  std::map<PipelineDesc, Pipeline> pipelines_;
  PipelineStats stats_;
  bool dirty_ = false;
};

// The SPIR-V of an embedded shader variant; throws Error naming the known ones when absent.
std::span<const uint32_t> embedded_shader(std::string_view name);
std::vector<std::string_view> embedded_shader_names();

}  // namespace vkgrad::vk
