#include "host_device.hpp"

#include "vkgrad/error.hpp"
#include "vkgrad/vk/requirements.hpp"

#include <cstdio>
#include <cstring>

using vkgrad::check;

namespace {

bool has_layer(const char* name) {
  uint32_t n = 0;
  vkEnumerateInstanceLayerProperties(&n, nullptr);
  std::vector<VkLayerProperties> layers(n);
  vkEnumerateInstanceLayerProperties(&n, layers.data());
  for (const auto& l : layers)
    if (std::strcmp(l.layerName, name) == 0) return true;
  return false;
}

}  // namespace

VKAPI_ATTR VkBool32 VKAPI_CALL HostDevice::on_message(VkDebugUtilsMessageSeverityFlagBitsEXT severity,
                                                      VkDebugUtilsMessageTypeFlagsEXT,
                                                      const VkDebugUtilsMessengerCallbackDataEXT* data, void* self) {
  auto* host = static_cast<HostDevice*>(self);
  const bool error = severity & VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT;
  ++(error ? host->errors_ : host->warnings_);
  std::fprintf(stderr, "embed_renderer: validation %s: %s\n", error ? "error" : "warning", data->pMessage);
  return VK_FALSE;
}

HostDevice::HostDevice(QueueChoice queues, bool validation) {
  VkApplicationInfo app{VK_STRUCTURE_TYPE_APPLICATION_INFO};
  app.pApplicationName = "embed_renderer";
  app.apiVersion = VK_API_VERSION_1_3;
  VkInstanceCreateInfo ii{VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO};
  ii.pApplicationInfo = &app;
  const char* layer = "VK_LAYER_KHRONOS_validation";
  const char* debug_utils = VK_EXT_DEBUG_UTILS_EXTENSION_NAME;
  const VkValidationFeatureEnableEXT sync = VK_VALIDATION_FEATURE_ENABLE_SYNCHRONIZATION_VALIDATION_EXT;
  VkValidationFeaturesEXT features{VK_STRUCTURE_TYPE_VALIDATION_FEATURES_EXT};
  features.enabledValidationFeatureCount = 1;
  features.pEnabledValidationFeatures = &sync;
  VkDebugUtilsMessengerCreateInfoEXT mi{VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT};
  mi.messageSeverity = VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT;
  mi.messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT;
  mi.pfnUserCallback = on_message;
  mi.pUserData = this;
  if (validation) {
    if (!has_layer(layer))
      throw vkgrad::Error("VKGRAD_VALIDATION=1 but the Khronos validation layer is not installed",
                          "install vulkan-validationlayers, or unset VKGRAD_VALIDATION");
    ii.enabledLayerCount = 1;
    ii.ppEnabledLayerNames = &layer;
    ii.enabledExtensionCount = 1;
    ii.ppEnabledExtensionNames = &debug_utils;
    features.pNext = &mi;  // messages from vkCreateInstance itself
    ii.pNext = &features;
  }
  check(vkCreateInstance(&ii, nullptr, &instance), "vkCreateInstance");
  if (validation) {
    auto create = reinterpret_cast<PFN_vkCreateDebugUtilsMessengerEXT>(
        vkGetInstanceProcAddr(instance, "vkCreateDebugUtilsMessengerEXT"));
    check(create(instance, &mi, nullptr, &messenger_), "vkCreateDebugUtilsMessengerEXT");
  }

  uint32_t n = 0;
  check(vkEnumeratePhysicalDevices(instance, &n, nullptr), "vkEnumeratePhysicalDevices");
  std::vector<VkPhysicalDevice> devices(n);
  check(vkEnumeratePhysicalDevices(instance, &n, devices.data()), "vkEnumeratePhysicalDevices");
  // The engine's own choice: the first device with a graphics queue (discrete GPUs first).
  uint32_t families = 0;
  std::vector<VkQueueFamilyProperties> props;
  for (int pass = 0; pass < 2 && !physical; ++pass)
    for (VkPhysicalDevice d : devices) {
      vkGetPhysicalDeviceProperties(d, &properties);
      if (pass == 0 && properties.deviceType != VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU) continue;
      vkGetPhysicalDeviceQueueFamilyProperties(d, &families, nullptr);
      props.resize(families);
      vkGetPhysicalDeviceQueueFamilyProperties(d, &families, props.data());
      for (uint32_t f = 0; f < families && !physical; ++f)
        if ((props[f].queueFlags & VK_QUEUE_GRAPHICS_BIT) && (props[f].queueFlags & VK_QUEUE_COMPUTE_BIT) &&
            props[f].timestampValidBits > 0) {
          physical = d;
          graphics_family = f;
        }
      if (physical) break;
    }
  if (!physical) throw vkgrad::Error("no Vulkan device with a graphics queue that has timestamps", "check vulkaninfo");
  vkGetPhysicalDeviceProperties(physical, &properties);
  vkGetPhysicalDeviceQueueFamilyProperties(physical, &families, nullptr);
  props.resize(families);
  vkGetPhysicalDeviceQueueFamilyProperties(physical, &families, props.data());

  // Training's queue: a second one of the graphics family, else one of another compute family.
  uint32_t train_index = 0;
  train_family = graphics_family;
  shared_queue = true;
  if (queues != QueueChoice::Shared) {
    if (props[graphics_family].queueCount >= 2) {
      train_index = 1;
      shared_queue = false;
    } else {
      for (uint32_t f = 0; f < families && shared_queue; ++f)
        if (f != graphics_family && (props[f].queueFlags & VK_QUEUE_COMPUTE_BIT) && props[f].timestampValidBits > 0) {
          train_family = f;
          shared_queue = false;
        }
    }
    if (shared_queue && queues == QueueChoice::Own)
      throw vkgrad::Error("--queue own: the device has no second queue with compute and timestamps",
                          "use --queue shared (or auto)");
  }

  // The engine's features (dynamic rendering for its passes), with vkgrad's merged in.
  vkgrad::vk::DeviceRequirements req(vkGetInstanceProcAddr, instance, physical);
  VkPhysicalDeviceVulkan13Features f13{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_3_FEATURES};
  f13.dynamicRendering = VK_TRUE;
  f13.synchronization2 = VK_TRUE;
  VkPhysicalDeviceFeatures2 f2{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2};
  f2.pNext = &f13;
  std::vector<const char*> extensions;
  req.add_to(f2, extensions);
  features_ = req.features();
  extensions_ = req.extensions();
  fp16_storage = req.caps().enabled(vkgrad::vk::Feature::Storage16);

  const float priorities[2] = {1.0f, 1.0f};
  VkDeviceQueueCreateInfo qi[2] = {{VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO}, {VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO}};
  qi[0].queueFamilyIndex = graphics_family;
  qi[0].queueCount = train_family == graphics_family && !shared_queue ? 2 : 1;
  qi[0].pQueuePriorities = priorities;
  qi[1].queueFamilyIndex = train_family;
  qi[1].queueCount = 1;
  qi[1].pQueuePriorities = priorities;
  VkDeviceCreateInfo di{VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO};
  di.pNext = &f2;
  di.queueCreateInfoCount = train_family == graphics_family ? 1 : 2;
  di.pQueueCreateInfos = qi;
  di.enabledExtensionCount = uint32_t(extensions.size());
  di.ppEnabledExtensionNames = extensions.data();
  check(vkCreateDevice(physical, &di, nullptr, &device), "vkCreateDevice");
  vkGetDeviceQueue(device, graphics_family, 0, &graphics_queue);
  vkGetDeviceQueue(device, train_family, train_index, &train_queue);
}

HostDevice::~HostDevice() {
  if (device) vkDestroyDevice(device, nullptr);
  if (messenger_) {
    auto destroy = reinterpret_cast<PFN_vkDestroyDebugUtilsMessengerEXT>(
        vkGetInstanceProcAddr(instance, "vkDestroyDebugUtilsMessengerEXT"));
    destroy(instance, messenger_, nullptr);
  }
  if (instance) vkDestroyInstance(instance, nullptr);
}

vkgrad::vk::AdoptInfo HostDevice::adopt_info() {
  vkgrad::vk::AdoptInfo a;
  a.get_instance_proc_addr = vkGetInstanceProcAddr;
  a.get_device_proc_addr = vkGetDeviceProcAddr;
  a.instance = instance;
  a.physical_device = physical;
  a.device = device;
  a.queue = train_queue;
  a.queue_family = train_family;
  a.enabled = features_;
  a.extensions = extensions_;
  if (shared_queue) {
    a.lock_queue = [this] { queue_mutex.lock(); };
    a.unlock_queue = [this] { queue_mutex.unlock(); };
  }
  return a;
}

uint32_t HostDevice::memory_type(uint32_t type_bits, VkMemoryPropertyFlags required, VkMemoryPropertyFlags preferred) const {
  VkPhysicalDeviceMemoryProperties mp;
  vkGetPhysicalDeviceMemoryProperties(physical, &mp);
  for (const VkMemoryPropertyFlags want : {required | preferred, required})
    for (uint32_t i = 0; i < mp.memoryTypeCount; ++i)
      if ((type_bits & (1u << i)) && (mp.memoryTypes[i].propertyFlags & want) == want) return i;
  throw vkgrad::Error("no memory type with the properties embed_renderer needs", "check vulkaninfo's memory types");
}

HostBuffer HostDevice::create_buffer(VkDeviceSize size, VkBufferUsageFlags usage, std::span<const uint32_t> families) {
  HostBuffer b;
  b.size = size;
  VkBufferCreateInfo bi{VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO};
  bi.size = size;
  bi.usage = usage;
  const bool concurrent = families.size() == 2 && families[0] != families[1];
  bi.sharingMode = concurrent ? VK_SHARING_MODE_CONCURRENT : VK_SHARING_MODE_EXCLUSIVE;
  bi.queueFamilyIndexCount = concurrent ? 2 : 0;
  bi.pQueueFamilyIndices = concurrent ? families.data() : nullptr;
  check(vkCreateBuffer(device, &bi, nullptr, &b.buffer), "vkCreateBuffer");
  VkMemoryRequirements req;
  vkGetBufferMemoryRequirements(device, b.buffer, &req);
  VkMemoryAllocateInfo ai{VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO};
  ai.allocationSize = req.size;
  ai.memoryTypeIndex = memory_type(req.memoryTypeBits, VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT,
                                   VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT);
  check(vkAllocateMemory(device, &ai, nullptr, &b.memory), "vkAllocateMemory");
  check(vkBindBufferMemory(device, b.buffer, b.memory, 0), "vkBindBufferMemory");
  check(vkMapMemory(device, b.memory, 0, VK_WHOLE_SIZE, 0, &b.mapped), "vkMapMemory");
  return b;
}

void HostDevice::destroy(HostBuffer& b) {
  if (b.buffer) vkDestroyBuffer(device, b.buffer, nullptr);
  if (b.memory) vkFreeMemory(device, b.memory, nullptr);
  b = {};
}

VkSemaphore HostDevice::create_timeline() {
  VkSemaphoreTypeCreateInfo ti{VK_STRUCTURE_TYPE_SEMAPHORE_TYPE_CREATE_INFO};
  ti.semaphoreType = VK_SEMAPHORE_TYPE_TIMELINE;
  VkSemaphoreCreateInfo si{VK_STRUCTURE_TYPE_SEMAPHORE_CREATE_INFO};
  si.pNext = &ti;
  VkSemaphore s = VK_NULL_HANDLE;
  check(vkCreateSemaphore(device, &si, nullptr, &s), "vkCreateSemaphore");
  return s;
}

void HostDevice::submit(VkQueue queue, VkCommandBuffer cmd, VkSemaphore semaphore, uint64_t value) {
  VkCommandBufferSubmitInfo ci{VK_STRUCTURE_TYPE_COMMAND_BUFFER_SUBMIT_INFO};
  ci.commandBuffer = cmd;
  VkSemaphoreSubmitInfo si{VK_STRUCTURE_TYPE_SEMAPHORE_SUBMIT_INFO};
  si.semaphore = semaphore;
  si.value = value;
  si.stageMask = VK_PIPELINE_STAGE_2_ALL_COMMANDS_BIT;
  VkSubmitInfo2 submit{VK_STRUCTURE_TYPE_SUBMIT_INFO_2};
  submit.commandBufferInfoCount = 1;
  submit.pCommandBufferInfos = &ci;
  submit.signalSemaphoreInfoCount = 1;
  submit.pSignalSemaphoreInfos = &si;
  std::unique_lock lock(queue_mutex, std::defer_lock);
  if (shared_queue) lock.lock();
  check(vkQueueSubmit2(queue, 1, &submit, VK_NULL_HANDLE), "vkQueueSubmit2");
}

void HostDevice::wait(VkSemaphore semaphore, uint64_t value) const {
  VkSemaphoreWaitInfo wi{VK_STRUCTURE_TYPE_SEMAPHORE_WAIT_INFO};
  wi.semaphoreCount = 1;
  wi.pSemaphores = &semaphore;
  wi.pValues = &value;
  check(vkWaitSemaphores(device, &wi, UINT64_MAX), "vkWaitSemaphores");
}
