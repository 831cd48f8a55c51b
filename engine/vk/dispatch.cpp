#define VOLK_IMPLEMENTATION
#include "dispatch.hpp"

#include "env.hpp"

#include <mutex>

namespace vkgrad::vk {
namespace {

// volk keeps its loaders in process globals; every use of them goes through this lock so that
// two contexts being created at once do not interleave.
std::mutex& volk_globals() {
  static std::mutex m;
  return m;
}

}  // namespace

PFN_vkGetInstanceProcAddr system_vulkan_loader() {
  std::lock_guard lock(volk_globals());
  static const PFN_vkGetInstanceProcAddr loader = volkInitialize() == VK_SUCCESS ? vkGetInstanceProcAddr : nullptr;
  return loader;
}

void load_instance_table(DispatchTable& table, VkInstance instance) {
#define VKGRAD_LOAD(name) \
  table.instance.name = reinterpret_cast<PFN_##name>(table.get_instance_proc_addr(instance, #name));
  VKGRAD_INSTANCE_FUNCTIONS(VKGRAD_LOAD)
#undef VKGRAD_LOAD
}

void load_device_table(DispatchTable& table, VkInstance instance, VkDevice device) {
  // volkLoadDeviceTable resolves through volk's global vkGetDeviceProcAddr: point volk at this
  // context's loader and instance first.
  std::lock_guard lock(volk_globals());
  volkInitializeCustom(table.get_instance_proc_addr);
  volkLoadInstanceOnly(instance);
  if (table.get_device_proc_addr)
    vkGetDeviceProcAddr = table.get_device_proc_addr;  // volk resolves device functions through its global
  else
    table.get_device_proc_addr = vkGetDeviceProcAddr;
  volkLoadDeviceTable(&table.device, device);
}

}  // namespace vkgrad::vk
