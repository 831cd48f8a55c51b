#include "caps_query.hpp"

#include "vkgrad/error.hpp"

#include <algorithm>
#include <cstring>

namespace vkgrad::vk {

std::string_view feature_name(Feature f) {
  switch (f) {
    case Feature::Coopmat: return "cooperativeMatrix";
    case Feature::Fp16Arith: return "shaderFloat16";
    case Feature::Storage16: return "storageBuffer16BitAccess";
    case Feature::MemoryModel: return "vulkanMemoryModel";
    case Feature::Synchronization2: return "synchronization2";
    case Feature::SubgroupSizeControl: return "subgroupSizeControl";
    case Feature::FullSubgroups: return "computeFullSubgroups";
    case Feature::TimelineSemaphore: return "timelineSemaphore";
    case Feature::HostQueryReset: return "hostQueryReset";
    case Feature::BufferDeviceAddress: return "bufferDeviceAddress";
    case Feature::Coopmat2: return "cooperativeMatrix2";
    case Feature::Maintenance4: return "maintenance4";
    case Feature::PushDescriptor: return "VK_KHR_push_descriptor";
    case Feature::Count: break;
  }
  return "?";
}

std::string_view feature_override_name(Feature f) {
  switch (f) {
    case Feature::Coopmat: return "coopmat";
    case Feature::Fp16Arith: return "fp16-arith";
    case Feature::Storage16: return "storage16";
    case Feature::Coopmat2: return "coopmat2";
    case Feature::PushDescriptor: return "push-descriptor";
    default: return {};
  }
}

std::optional<Feature> feature_from_override_name(std::string_view name) {
  for (size_t i = 0; i < kFeatureCount; ++i) {
    const auto f = static_cast<Feature>(i);
    if (!feature_override_name(f).empty() && feature_override_name(f) == name) return f;
  }
  return std::nullopt;
}

std::string_view component_type_name(VkComponentTypeKHR t) {
  switch (t) {
    case VK_COMPONENT_TYPE_FLOAT16_KHR: return "float16";
    case VK_COMPONENT_TYPE_FLOAT32_KHR: return "float32";
    case VK_COMPONENT_TYPE_FLOAT64_KHR: return "float64";
    case VK_COMPONENT_TYPE_SINT8_KHR: return "sint8";
    case VK_COMPONENT_TYPE_SINT16_KHR: return "sint16";
    case VK_COMPONENT_TYPE_SINT32_KHR: return "sint32";
    case VK_COMPONENT_TYPE_SINT64_KHR: return "sint64";
    case VK_COMPONENT_TYPE_UINT8_KHR: return "uint8";
    case VK_COMPONENT_TYPE_UINT16_KHR: return "uint16";
    case VK_COMPONENT_TYPE_UINT32_KHR: return "uint32";
    case VK_COMPONENT_TYPE_UINT64_KHR: return "uint64";
    default: return "other";
  }
}

std::string_view scope_name(VkScopeKHR s) {
  switch (s) {
    case VK_SCOPE_DEVICE_KHR: return "device";
    case VK_SCOPE_WORKGROUP_KHR: return "workgroup";
    case VK_SCOPE_SUBGROUP_KHR: return "subgroup";
    case VK_SCOPE_QUEUE_FAMILY_KHR: return "queue_family";
    default: return "other";
  }
}

std::string_view device_type_name(VkPhysicalDeviceType t) {
  switch (t) {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return "discrete";
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return "integrated";
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return "virtual";
    case VK_PHYSICAL_DEVICE_TYPE_CPU: return "cpu";
    default: return "other";
  }
}

std::vector<std::string> device_extensions(const DispatchTable& vk, VkPhysicalDevice pd) {
  uint32_t n = 0;
  check(vk.instance.vkEnumerateDeviceExtensionProperties(pd, nullptr, &n, nullptr),
        "vkEnumerateDeviceExtensionProperties");
  std::vector<VkExtensionProperties> props(n);
  check(vk.instance.vkEnumerateDeviceExtensionProperties(pd, nullptr, &n, props.data()),
        "vkEnumerateDeviceExtensionProperties");
  std::vector<std::string> names;
  for (uint32_t i = 0; i < n; ++i) names.emplace_back(props[i].extensionName);
  return names;
}

std::vector<MemoryHeap> query_heaps(const DispatchTable& vk, VkPhysicalDevice pd, bool has_budget) {
  VkPhysicalDeviceMemoryBudgetPropertiesEXT budget{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_BUDGET_PROPERTIES_EXT};
  VkPhysicalDeviceMemoryProperties2 mem{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_PROPERTIES_2};
  if (has_budget) mem.pNext = &budget;
  vk.instance.vkGetPhysicalDeviceMemoryProperties2(pd, &mem);
  std::vector<MemoryHeap> heaps;
  for (uint32_t i = 0; i < mem.memoryProperties.memoryHeapCount; ++i) {
    const auto& h = mem.memoryProperties.memoryHeaps[i];
    MemoryHeap heap;
    heap.size = h.size;
    heap.budget = has_budget ? budget.heapBudget[i] : h.size;
    heap.usage = has_budget ? budget.heapUsage[i] : 0;
    heap.device_local = (h.flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT) != 0;
    heaps.push_back(heap);
  }
  return heaps;
}

Caps query_caps(const DispatchTable& vk, VkPhysicalDevice pd) {
  const auto exts = device_extensions(vk, pd);
  const auto has_ext = [&](const char* name) {
    return std::find(exts.begin(), exts.end(), name) != exts.end();
  };
  const bool has_coopmat = has_ext(VK_KHR_COOPERATIVE_MATRIX_EXTENSION_NAME);
  const bool has_coopmat2 = has_coopmat && has_ext(VK_NV_COOPERATIVE_MATRIX_2_EXTENSION_NAME);

  VkPhysicalDeviceVulkan11Properties p11{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_PROPERTIES};
  VkPhysicalDeviceVulkan12Properties p12{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_PROPERTIES};
  VkPhysicalDeviceVulkan13Properties p13{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_3_PROPERTIES};
  VkPhysicalDeviceProperties2 props{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2};
  VkPhysicalDeviceCooperativeMatrix2PropertiesNV pcm2{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_COOPERATIVE_MATRIX_2_PROPERTIES_NV};
  props.pNext = &p11;
  p11.pNext = &p12;
  p12.pNext = &p13;
  if (has_coopmat2) p13.pNext = &pcm2;
  vk.instance.vkGetPhysicalDeviceProperties2(pd, &props);

  VkPhysicalDeviceCooperativeMatrixFeaturesKHR fcm{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_COOPERATIVE_MATRIX_FEATURES_KHR};
  VkPhysicalDeviceVulkan11Features f11{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES};
  VkPhysicalDeviceVulkan12Features f12{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES};
  VkPhysicalDeviceVulkan13Features f13{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_3_FEATURES};
  VkPhysicalDeviceFeatures2 feats{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2};
  feats.pNext = &f11;
  f11.pNext = &f12;
  f12.pNext = &f13;
  VkPhysicalDeviceCooperativeMatrix2FeaturesNV fcm2{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_COOPERATIVE_MATRIX_2_FEATURES_NV};
  if (has_coopmat) f13.pNext = &fcm;
  if (has_coopmat2) fcm.pNext = &fcm2;
  vk.instance.vkGetPhysicalDeviceFeatures2(pd, &feats);

  Caps c;
  const auto& p = props.properties;
  c.name = p.deviceName;
  c.driver_name = p12.driverName;
  c.driver_info = p12.driverInfo;
  c.type = p.deviceType;
  c.vendor_id = p.vendorID;
  c.api_version = p.apiVersion;
  c.driver_version = p.driverVersion;
  c.driver_id = p12.driverID;
  std::memcpy(c.device_uuid.data(), p11.deviceUUID, VK_UUID_SIZE);
  std::memcpy(c.pipeline_cache_uuid.data(), p.pipelineCacheUUID, VK_UUID_SIZE);

  const auto set = [&](Feature f, VkBool32 v) { c.features[static_cast<size_t>(f)].supported = v == VK_TRUE; };
  set(Feature::Coopmat, has_coopmat ? fcm.cooperativeMatrix : VK_FALSE);
  set(Feature::Fp16Arith, f12.shaderFloat16);
  set(Feature::Storage16, f11.storageBuffer16BitAccess);
  set(Feature::MemoryModel, f12.vulkanMemoryModel);
  set(Feature::Synchronization2, f13.synchronization2);
  set(Feature::SubgroupSizeControl, f13.subgroupSizeControl);
  set(Feature::Maintenance4, f13.maintenance4);
  set(Feature::PushDescriptor, has_ext(VK_KHR_PUSH_DESCRIPTOR_EXTENSION_NAME) ? VK_TRUE : VK_FALSE);
  set(Feature::FullSubgroups, f13.computeFullSubgroups);
  set(Feature::TimelineSemaphore, f12.timelineSemaphore);
  set(Feature::HostQueryReset, f12.hostQueryReset);
  set(Feature::BufferDeviceAddress, f12.bufferDeviceAddress);
  set(Feature::Coopmat2, has_coopmat2 && fcm.cooperativeMatrix && fcm2.cooperativeMatrixFlexibleDimensions &&
                                 fcm2.cooperativeMatrixPerElementOperations
                             ? VK_TRUE
                             : VK_FALSE);
  c.coopmat2_workgroup_scope = has_coopmat2 && fcm2.cooperativeMatrixWorkgroupScope;
  c.coopmat2_tensor_addressing = has_coopmat2 && fcm2.cooperativeMatrixTensorAddressing;

  if (has_coopmat && vk.instance.vkGetPhysicalDeviceCooperativeMatrixPropertiesKHR) {
    uint32_t n = 0;
    check(vk.instance.vkGetPhysicalDeviceCooperativeMatrixPropertiesKHR(pd, &n, nullptr),
          "vkGetPhysicalDeviceCooperativeMatrixPropertiesKHR");
    std::vector<VkCooperativeMatrixPropertiesKHR> cm(n, {VK_STRUCTURE_TYPE_COOPERATIVE_MATRIX_PROPERTIES_KHR});
    check(vk.instance.vkGetPhysicalDeviceCooperativeMatrixPropertiesKHR(pd, &n, cm.data()),
          "vkGetPhysicalDeviceCooperativeMatrixPropertiesKHR");
    for (uint32_t i = 0; i < n; ++i) {
      c.coopmat_shapes.push_back({cm[i].MSize, cm[i].NSize, cm[i].KSize, cm[i].AType, cm[i].BType,
                                  cm[i].CType, cm[i].ResultType, cm[i].scope,
                                  cm[i].saturatingAccumulation == VK_TRUE});
    }
  }
  c.nv_coopmat2 = has_coopmat2;
  if (has_coopmat2 && vk.instance.vkGetPhysicalDeviceCooperativeMatrixFlexibleDimensionsPropertiesNV) {
    uint32_t n = 0;
    check(vk.instance.vkGetPhysicalDeviceCooperativeMatrixFlexibleDimensionsPropertiesNV(pd, &n, nullptr),
          "vkGetPhysicalDeviceCooperativeMatrixFlexibleDimensionsPropertiesNV");
    std::vector<VkCooperativeMatrixFlexibleDimensionsPropertiesNV> fl(
        n, {VK_STRUCTURE_TYPE_COOPERATIVE_MATRIX_FLEXIBLE_DIMENSIONS_PROPERTIES_NV});
    check(vk.instance.vkGetPhysicalDeviceCooperativeMatrixFlexibleDimensionsPropertiesNV(pd, &n, fl.data()),
          "vkGetPhysicalDeviceCooperativeMatrixFlexibleDimensionsPropertiesNV");
    for (uint32_t i = 0; i < n; ++i)
      c.coopmat2_shapes.push_back({fl[i].MGranularity, fl[i].NGranularity, fl[i].KGranularity, fl[i].AType,
                                   fl[i].BType, fl[i].CType, fl[i].ResultType, fl[i].scope,
                                   fl[i].workgroupInvocations});
    c.coopmat2_max_workgroup_size = pcm2.cooperativeMatrixWorkgroupScopeMaxWorkgroupSize;
    c.coopmat2_max_dimension = pcm2.cooperativeMatrixFlexibleDimensionsMaxDimension;
  }

  c.subgroup_size = p11.subgroupSize;
  c.min_subgroup_size = p13.minSubgroupSize;
  c.max_subgroup_size = p13.maxSubgroupSize;
  c.fp16_rounding_rte = p12.shaderRoundingModeRTEFloat16 == VK_TRUE;
  c.fp16_denorm_preserve = p12.shaderDenormPreserveFloat16 == VK_TRUE;
  c.fp32_denorm_preserve = p12.shaderDenormPreserveFloat32 == VK_TRUE;

  const auto& l = p.limits;
  c.max_shared_memory = l.maxComputeSharedMemorySize;
  c.max_workgroup_invocations = l.maxComputeWorkGroupInvocations;
  for (int i = 0; i < 3; ++i) {
    c.max_workgroup_size[i] = l.maxComputeWorkGroupSize[i];
    c.max_workgroup_count[i] = l.maxComputeWorkGroupCount[i];
  }
  c.max_push_constants = l.maxPushConstantsSize;
  c.max_storage_buffer_range = l.maxStorageBufferRange;
  c.min_storage_buffer_offset_alignment = l.minStorageBufferOffsetAlignment;
  c.non_coherent_atom_size = l.nonCoherentAtomSize;
  c.timestamp_period_ns = l.timestampPeriod;
  c.heaps = query_heaps(vk, pd, has_ext(VK_EXT_MEMORY_BUDGET_EXTENSION_NAME));
  return c;
}

}  // namespace vkgrad::vk
