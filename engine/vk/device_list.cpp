#include "device_list.hpp"

#include "env.hpp"
#include "vkgrad/error.hpp"

#include <cstring>
#include <set>

namespace vkgrad::vk {

std::vector<size_t> first_of_each_uuid(std::span<const Uuid> uuids) {
  std::vector<size_t> out;
  std::set<Uuid> seen;
  for (size_t i = 0; i < uuids.size(); ++i)
    if (seen.insert(uuids[i]).second) out.push_back(i);
  return out;
}

PFN_vkGetInstanceProcAddr resolve_loader(PFN_vkGetInstanceProcAddr given) {
  if (given) return given;
  PFN_vkGetInstanceProcAddr gipa = system_vulkan_loader();
  if (!gipa)
    throw Error("no Vulkan loader (libvulkan.so.1 / vulkan-1.dll) could be loaded",
                "install the Vulkan loader (Debian: libvulkan1) and a driver");
  return gipa;
}

// Physical devices with duplicates (same deviceUUID, e.g. one GPU listed by two manifests) dropped.
std::vector<VkPhysicalDevice> unique_physical_devices(const DispatchTable& vk, VkInstance instance) {
  uint32_t n = 0;
  check(vk.instance.vkEnumeratePhysicalDevices(instance, &n, nullptr), "vkEnumeratePhysicalDevices");
  std::vector<VkPhysicalDevice> all(n);
  check(vk.instance.vkEnumeratePhysicalDevices(instance, &n, all.data()), "vkEnumeratePhysicalDevices");
  std::vector<Uuid> uuids;
  for (VkPhysicalDevice pd : all) {
    VkPhysicalDeviceIDProperties id{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_ID_PROPERTIES};
    VkPhysicalDeviceProperties2 p{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2, &id};
    vk.instance.vkGetPhysicalDeviceProperties2(pd, &p);
    Uuid uuid{};
    std::memcpy(uuid.data(), id.deviceUUID, VK_UUID_SIZE);
    uuids.push_back(uuid);
  }
  std::vector<VkPhysicalDevice> unique;
  for (size_t i : first_of_each_uuid(uuids)) unique.push_back(all[i]);
  return unique;
}

std::vector<DeviceSummary> summarize(const DispatchTable& vk, std::span<const VkPhysicalDevice> pds) {
  std::vector<DeviceSummary> out;
  for (uint32_t i = 0; i < pds.size(); ++i) {
    VkPhysicalDeviceProperties p;
    vk.instance.vkGetPhysicalDeviceProperties(pds[i], &p);
    out.push_back({i, p.deviceName, p.deviceType, p.apiVersion});
  }
  return out;
}

uint32_t choose_device(std::span<const DeviceSummary> devices, std::optional<uint32_t> index,
                       const std::string& name_substring) {
  std::string listing;
  for (const auto& d : devices)
    listing += "\n  " + std::to_string(d.index) + ": " + d.name + " (" + std::string(device_type_name(d.type)) + ")";
  if (devices.empty())
    throw Error("no Vulkan device found", "install a Vulkan driver (Debian: mesa-vulkan-drivers for a CPU device)");
  if (index) {
    if (*index >= devices.size())
      throw Error("device index " + std::to_string(*index) + " is out of range; devices:" + listing,
                  "set VKGRAD_DEVICE to one of the listed indices or a name substring");
    return *index;
  }
  if (!name_substring.empty()) {
    for (const auto& d : devices)
      if (lowercase(d.name).find(lowercase(name_substring)) != std::string::npos) return d.index;
    throw Error("no device name contains '" + name_substring + "'; devices:" + listing,
                "set VKGRAD_DEVICE to one of the listed indices or a name substring");
  }
  const auto rank = [](VkPhysicalDeviceType t) {
    switch (t) {
      case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return 0;
      case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return 1;
      case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return 2;
      case VK_PHYSICAL_DEVICE_TYPE_CPU: return 3;
      default: return 4;
    }
  };
  uint32_t best = 0;
  for (const auto& d : devices)
    if (rank(d.type) < rank(devices[best].type)) best = d.index;
  return best;
}

std::vector<DeviceSummary> list_devices() {
  DispatchTable table;
  table.get_instance_proc_addr = resolve_loader(nullptr);
  VkApplicationInfo app{VK_STRUCTURE_TYPE_APPLICATION_INFO};
  app.apiVersion = VK_API_VERSION_1_3;
  VkInstanceCreateInfo ci{VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO};
  ci.pApplicationInfo = &app;
  auto create = reinterpret_cast<PFN_vkCreateInstance>(table.get_instance_proc_addr(VK_NULL_HANDLE, "vkCreateInstance"));
  VkInstance instance = VK_NULL_HANDLE;
  check(create(&ci, nullptr, &instance), "vkCreateInstance");
  load_instance_table(table, instance);
  std::vector<DeviceSummary> out;
  try {
    out = summarize(table, unique_physical_devices(table, instance));
  } catch (...) {
    table.instance.vkDestroyInstance(instance, nullptr);
    throw;
  }
  table.instance.vkDestroyInstance(instance, nullptr);
  return out;
}

}  // namespace vkgrad::vk
