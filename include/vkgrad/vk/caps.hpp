// vkgrad::vk::Caps — what one physical device can do, and what the Context enabled.
//
// A plain value: filled once when a Context is created (or made up by tests), then read-only.
// Kernel variant selection looks only at `enabled` features. Safe to share between threads.
#pragma once

#include <vulkan/vulkan_core.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vkgrad::vk {

// Device features a kernel variant may use. Coopmat, Fp16Arith, Storage16, Coopmat2 and
// PushDescriptor have user-facing override names (VKGRAD_DISABLE=coopmat,fp16-arith,storage16,
// coopmat2,push-descriptor); the rest are enabled whenever supported.
enum class Feature : uint32_t {
  Coopmat,              // VK_KHR_cooperative_matrix: cooperativeMatrix
  Fp16Arith,            // shaderFloat16
  Storage16,            // storageBuffer16BitAccess
  MemoryModel,          // vulkanMemoryModel (GL_KHR_cooperative_matrix needs it)
  Synchronization2,     // synchronization2 (required)
  SubgroupSizeControl,  // subgroupSizeControl
  FullSubgroups,        // computeFullSubgroups
  TimelineSemaphore,    // timelineSemaphore
  HostQueryReset,       // hostQueryReset
  BufferDeviceAddress,  // bufferDeviceAddress (the cpu GEMM reads operands through pointers)
  // VK_NV_cooperative_matrix2 with flexible dimensions and per-element operations (the
  // coopmat2 GEMM: large subgroup tiles, epilogue applied per element); needs Coopmat.
  Coopmat2,
  Maintenance4,  // maintenance4 (required: workgroup sizes from specialization constants)
  // VK_KHR_push_descriptor: buffers bound in the command buffer itself; without it (a host
  // that cannot enable it) the passes bind descriptor sets vkgrad keeps (vk/descriptor_sets).
  PushDescriptor,
  Count
};
inline constexpr size_t kFeatureCount = static_cast<size_t>(Feature::Count);

// The Vulkan feature name ("cooperativeMatrix", "shaderFloat16", ...).
std::string_view feature_name(Feature f);
// The override name ("coopmat", "fp16-arith", "storage16"), or empty for features without one.
std::string_view feature_override_name(Feature f);
// Parses an override name; nullopt when unknown.
std::optional<Feature> feature_from_override_name(std::string_view name);

struct FeatureState {
  bool supported = false;
  bool enabled = false;
};

// One entry of vkGetPhysicalDeviceCooperativeMatrixPropertiesKHR.
struct CoopmatShape {
  uint32_t m = 0, n = 0, k = 0;
  VkComponentTypeKHR a = VK_COMPONENT_TYPE_FLOAT16_KHR;
  VkComponentTypeKHR b = VK_COMPONENT_TYPE_FLOAT16_KHR;
  VkComponentTypeKHR c = VK_COMPONENT_TYPE_FLOAT32_KHR;
  VkComponentTypeKHR result = VK_COMPONENT_TYPE_FLOAT32_KHR;
  VkScopeKHR scope = VK_SCOPE_SUBGROUP_KHR;
  bool saturating = false;
};
// One entry of vkGetPhysicalDeviceCooperativeMatrixFlexibleDimensionsPropertiesNV: matrices of
// any multiple of the granularities, used by a workgroup of exactly `workgroup_invocations`.
struct FlexibleCoopmatShape {
  uint32_t m_granularity = 0, n_granularity = 0, k_granularity = 0;
  VkComponentTypeKHR a = VK_COMPONENT_TYPE_FLOAT16_KHR;
  VkComponentTypeKHR b = VK_COMPONENT_TYPE_FLOAT16_KHR;
  VkComponentTypeKHR c = VK_COMPONENT_TYPE_FLOAT32_KHR;
  VkComponentTypeKHR result = VK_COMPONENT_TYPE_FLOAT32_KHR;
  VkScopeKHR scope = VK_SCOPE_WORKGROUP_KHR;
  uint32_t workgroup_invocations = 0;
};

// "float16", "float32", "uint8", ... for component types; "subgroup", "workgroup", ... for scopes.
std::string_view component_type_name(VkComponentTypeKHR t);
std::string_view scope_name(VkScopeKHR s);

struct MemoryHeap {
  VkDeviceSize size = 0;
  VkDeviceSize budget = 0;  // VK_EXT_memory_budget when present, else size
  VkDeviceSize usage = 0;
  bool device_local = false;
};

struct Caps {
  std::string name;
  std::string driver_name;
  std::string driver_info;
  VkPhysicalDeviceType type = VK_PHYSICAL_DEVICE_TYPE_OTHER;
  uint32_t vendor_id = 0;
  std::array<uint8_t, VK_UUID_SIZE> device_uuid{};
  std::array<uint8_t, VK_UUID_SIZE> pipeline_cache_uuid{};
  uint32_t api_version = 0;
  uint32_t driver_version = 0;  // vendor-encoded; keys the kernel tuning file
  VkDriverId driver_id = VkDriverId(0);

  std::array<FeatureState, kFeatureCount> features{};
  std::vector<CoopmatShape> coopmat_shapes;
  bool nv_coopmat2 = false;  // VK_NV_cooperative_matrix2 listed
  std::vector<FlexibleCoopmatShape> coopmat2_shapes;
  uint32_t coopmat2_max_workgroup_size = 0;  // cooperativeMatrixWorkgroupScopeMaxWorkgroupSize
  uint32_t coopmat2_max_dimension = 0;       // cooperativeMatrixFlexibleDimensionsMaxDimension
  bool coopmat2_workgroup_scope = false;     // reported, not used yet
  bool coopmat2_tensor_addressing = false;   // reported, not used yet

  uint32_t subgroup_size = 0;
  uint32_t min_subgroup_size = 0;  // subgroup-size-control range
  uint32_t max_subgroup_size = 0;
  bool fp16_rounding_rte = false;       // shaderRoundingModeRTEFloat16
  bool fp16_denorm_preserve = false;    // shaderDenormPreserveFloat16
  bool fp32_denorm_preserve = false;    // shaderDenormPreserveFloat32

  uint32_t max_shared_memory = 0;            // maxComputeSharedMemorySize, bytes
  uint32_t max_workgroup_invocations = 0;
  std::array<uint32_t, 3> max_workgroup_size{};
  std::array<uint32_t, 3> max_workgroup_count{};
  uint32_t max_push_constants = 0;
  uint32_t max_storage_buffer_range = 0;
  VkDeviceSize min_storage_buffer_offset_alignment = 0;
  VkDeviceSize non_coherent_atom_size = 0;
  float timestamp_period_ns = 0;   // 0 when the compute queue has no timestamps
  uint32_t timestamp_valid_bits = 0;
  std::vector<MemoryHeap> heaps;
  // Features left off despite support, because this driver is known to fail with them: one
  // line each, naming the driver, the failure and what was turned off.
  std::vector<std::string> workarounds;

  bool supported(Feature f) const { return features[static_cast<size_t>(f)].supported; }
  bool enabled(Feature f) const { return features[static_cast<size_t>(f)].enabled; }
};

std::string_view device_type_name(VkPhysicalDeviceType t);

}  // namespace vkgrad::vk
