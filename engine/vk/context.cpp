#include "vkgrad/vk/context.hpp"

#include "descriptor_sets.hpp"

#include "caps_query.hpp"
#include "device_list.hpp"
#include "dispatch.hpp"
#include "env.hpp"
#include "vkgrad/error.hpp"
#include "vkgrad/vk/pipeline.hpp"
#include "vkgrad/vk/requirements.hpp"

#include <vk_mem_alloc.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <set>

namespace vkgrad::vk {
namespace {

constexpr const char* kValidationLayer = "VK_LAYER_KHRONOS_validation";

VKAPI_ATTR VkBool32 VKAPI_CALL on_debug_message(VkDebugUtilsMessageSeverityFlagBitsEXT severity,
                                                VkDebugUtilsMessageTypeFlagsEXT,
                                                const VkDebugUtilsMessengerCallbackDataEXT* data,
                                                void* user) {
  ValidationMessage m;
  if (severity & VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT)
    m.severity = Severity::Error;
  else if (severity & VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT)
    m.severity = Severity::Warning;
  else if (severity & VK_DEBUG_UTILS_MESSAGE_SEVERITY_INFO_BIT_EXT)
    m.severity = Severity::Info;
  else
    m.severity = Severity::Verbose;
  m.id_name = data->pMessageIdName ? data->pMessageIdName : "";
  m.id_number = data->messageIdNumber;
  m.text = data->pMessage ? data->pMessage : "";
  (*static_cast<ValidationCallback*>(user))(m);
  return VK_FALSE;
}

void print_message(const ValidationMessage& m) {
  if (m.severity < Severity::Warning) return;
  std::fprintf(stderr, "vkgrad: validation %s [%s]: %s\n",
               m.severity == Severity::Error ? "error" : "warning", m.id_name.c_str(), m.text.c_str());
}

bool instance_has_layer(const DispatchTable& vk, const char* name) {
  auto enumerate = reinterpret_cast<PFN_vkEnumerateInstanceLayerProperties>(
      vk.get_instance_proc_addr(VK_NULL_HANDLE, "vkEnumerateInstanceLayerProperties"));
  uint32_t n = 0;
  check(enumerate(&n, nullptr), "vkEnumerateInstanceLayerProperties");
  std::vector<VkLayerProperties> layers(n);
  check(enumerate(&n, layers.data()), "vkEnumerateInstanceLayerProperties");
  return std::any_of(layers.begin(), layers.end(),
                     [&](const VkLayerProperties& l) { return std::strcmp(l.layerName, name) == 0; });
}

bool instance_has_extension(const DispatchTable& vk, const char* layer, const char* name) {
  auto enumerate = reinterpret_cast<PFN_vkEnumerateInstanceExtensionProperties>(
      vk.get_instance_proc_addr(VK_NULL_HANDLE, "vkEnumerateInstanceExtensionProperties"));
  uint32_t n = 0;
  check(enumerate(layer, &n, nullptr), "vkEnumerateInstanceExtensionProperties");
  std::vector<VkExtensionProperties> exts(n);
  check(enumerate(layer, &n, exts.data()), "vkEnumerateInstanceExtensionProperties");
  return std::any_of(exts.begin(), exts.end(),
                     [&](const VkExtensionProperties& e) { return std::strcmp(e.extensionName, name) == 0; });
}

// A per-device file in the cache folder: PREFIX + pipelineCacheUUID (+ driverVersion) + SUFFIX.
std::filesystem::path cache_file(const Caps& caps, std::filesystem::path dir, bool on_disk, const char* prefix,
                                 bool with_driver, const char* suffix) {
  if (!on_disk) return {};
  if (dir.empty()) dir = default_cache_dir();
  if (dir.empty()) return {};
  static const char* hex = "0123456789abcdef";
  std::string name = prefix;
  for (uint8_t b : caps.pipeline_cache_uuid) {
    name += hex[b >> 4];
    name += hex[b & 15];
  }
  if (with_driver) name += "-" + std::to_string(caps.driver_version);
  return dir / (name + suffix);
}

uint32_t compute_queue_family(const DispatchTable& vk, VkPhysicalDevice pd, uint32_t* timestamp_bits) {
  uint32_t n = 0;
  vk.instance.vkGetPhysicalDeviceQueueFamilyProperties(pd, &n, nullptr);
  std::vector<VkQueueFamilyProperties> fams(n);
  vk.instance.vkGetPhysicalDeviceQueueFamilyProperties(pd, &n, fams.data());
  // Prefer a compute family without graphics: on GPUs it is the asynchronous compute queue.
  int best = -1;
  for (uint32_t i = 0; i < n; ++i) {
    if (!(fams[i].queueFlags & VK_QUEUE_COMPUTE_BIT)) continue;
    if (best < 0 || (!(fams[i].queueFlags & VK_QUEUE_GRAPHICS_BIT) && (fams[best].queueFlags & VK_QUEUE_GRAPHICS_BIT)))
      best = static_cast<int>(i);
  }
  if (best < 0) throw Error("the chosen device has no compute queue", "choose another device with VKGRAD_DEVICE");
  *timestamp_bits = fams[best].timestampValidBits;
  return static_cast<uint32_t>(best);
}

}  // namespace

Context::Context(const ContextCreateInfo& create_info) : dispatch_(std::make_unique<DispatchTable>()) {
  ContextCreateInfo info = create_info;
  if (info.read_env && validation_env()) info.validation = true;
  on_message_ = std::make_unique<ValidationCallback>(info.on_message ? info.on_message : print_message);
  try {
    create_instance(info);
    create_device(info);
  } catch (...) {
    destroy();
    throw;
  }
}

Context::Context(const AdoptInfo& info) : dispatch_(std::make_unique<DispatchTable>()), owns_device_(false) {
  if (!info.get_instance_proc_addr || !info.instance || !info.physical_device || !info.device || !info.queue)
    throw Error("AdoptInfo needs get_instance_proc_addr, instance, physical_device, device and queue",
                "pass the host application's Vulkan handles");
  if (info.api_version < VK_API_VERSION_1_3)
    throw Error("vkgrad needs a Vulkan 1.3 instance and device", "create the host instance with apiVersion 1.3");
  dispatch_->get_instance_proc_addr = info.get_instance_proc_addr;
  dispatch_->get_device_proc_addr = info.get_device_proc_addr;
  instance_ = info.instance;
  physical_device_ = info.physical_device;
  device_ = info.device;
  queue_ = info.queue;
  queue_family_ = info.queue_family;
  if (bool(info.lock_queue) != bool(info.unlock_queue))
    throw Error("AdoptInfo has lock_queue or unlock_queue but not both", "pass both callbacks, or neither");
  lock_queue_ = info.lock_queue;
  unlock_queue_ = info.unlock_queue;
  try {
    load_instance_table(*dispatch_, instance_);
    caps_ = query_caps(*dispatch_, physical_device_);
    for (Feature f : info.enabled)
      caps_.features[static_cast<size_t>(f)].enabled = caps_.supported(f);
    // Push descriptors only where the host enabled the extension; descriptor sets otherwise.
    caps_.features[size_t(Feature::PushDescriptor)].enabled =
        caps_.supported(Feature::PushDescriptor) &&
        std::find(info.extensions.begin(), info.extensions.end(), VK_KHR_PUSH_DESCRIPTOR_EXTENSION_NAME) !=
            info.extensions.end();
    if (const auto missing = missing_requirements(info.enabled, info.extensions); !missing.empty()) {
      std::string list;
      for (const auto& m : missing) list += (list.empty() ? "" : ", ") + m;
      throw Error("the adopted device lacks what vkgrad needs: " + list,
                  "create it with vk::DeviceRequirements (add_to) and pass its features() and extensions() as "
                  "AdoptInfo::enabled and AdoptInfo::extensions");
    }
    has_memory_budget_ = std::find(info.extensions.begin(), info.extensions.end(),
                                   VK_EXT_MEMORY_BUDGET_EXTENSION_NAME) != info.extensions.end();
    uint32_t n = 0;
    vk().instance.vkGetPhysicalDeviceQueueFamilyProperties(physical_device_, &n, nullptr);
    std::vector<VkQueueFamilyProperties> fams(n);
    vk().instance.vkGetPhysicalDeviceQueueFamilyProperties(physical_device_, &n, fams.data());
    if (queue_family_ >= n || !(fams[queue_family_].queueFlags & VK_QUEUE_COMPUTE_BIT))
      throw Error("AdoptInfo::queue_family does not support compute", "pass a compute-capable queue");
    caps_.timestamp_valid_bits = fams[queue_family_].timestampValidBits;
    load_device_table(*dispatch_, instance_, device_);
    finish_setup(info.pipeline_cache_dir, info.pipeline_cache_on_disk, info.tune_kernels);
  } catch (...) {
    destroy();
    throw;
  }
}

void Context::create_instance(const ContextCreateInfo& info) {
  dispatch_->get_instance_proc_addr = resolve_loader(info.get_instance_proc_addr);
  load_instance_table(*dispatch_, VK_NULL_HANDLE);

  auto enumerate_version = reinterpret_cast<PFN_vkEnumerateInstanceVersion>(
      dispatch_->get_instance_proc_addr(VK_NULL_HANDLE, "vkEnumerateInstanceVersion"));
  uint32_t loader_version = VK_API_VERSION_1_0;
  if (enumerate_version) check(enumerate_version(&loader_version), "vkEnumerateInstanceVersion");
  if (loader_version < VK_API_VERSION_1_3)
    throw Error("the Vulkan loader supports only version " + std::to_string(VK_API_VERSION_MAJOR(loader_version)) +
                    "." + std::to_string(VK_API_VERSION_MINOR(loader_version)) + "; vkgrad needs 1.3",
                "update the Vulkan loader (libvulkan1)");

  std::vector<const char*> layers;
  std::vector<const char*> extensions;
  const bool debug_utils = instance_has_extension(*dispatch_, nullptr, VK_EXT_DEBUG_UTILS_EXTENSION_NAME) ||
                           (info.validation && instance_has_extension(*dispatch_, kValidationLayer,
                                                                       VK_EXT_DEBUG_UTILS_EXTENSION_NAME));
  if (info.validation) {
    if (!instance_has_layer(*dispatch_, kValidationLayer))
      throw Error(VK_ERROR_LAYER_NOT_PRESENT, "enabling VK_LAYER_KHRONOS_validation");
    layers.push_back(kValidationLayer);
    if (instance_has_extension(*dispatch_, kValidationLayer, VK_EXT_LAYER_SETTINGS_EXTENSION_NAME))
      extensions.push_back(VK_EXT_LAYER_SETTINGS_EXTENSION_NAME);
  }
  if (debug_utils) extensions.push_back(VK_EXT_DEBUG_UTILS_EXTENSION_NAME);

  VkApplicationInfo app{VK_STRUCTURE_TYPE_APPLICATION_INFO};
  app.pApplicationName = info.application_name;
  app.pEngineName = "vkgrad";
  app.apiVersion = VK_API_VERSION_1_3;

  // Synchronization validation must also look at shader accesses through descriptors, or it
  // misses the hazards between dispatches that matter most here.
  const VkBool32 on = VK_TRUE;
  const VkLayerSettingEXT settings[] = {
      {kValidationLayer, "validate_sync", VK_LAYER_SETTING_TYPE_BOOL32_EXT, 1, &on},
      {kValidationLayer, "syncval_shader_accesses_heuristic", VK_LAYER_SETTING_TYPE_BOOL32_EXT, 1, &on},
  };
  VkLayerSettingsCreateInfoEXT layer_settings{VK_STRUCTURE_TYPE_LAYER_SETTINGS_CREATE_INFO_EXT};
  layer_settings.settingCount = 2;
  layer_settings.pSettings = settings;

  VkDebugUtilsMessengerCreateInfoEXT messenger{VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT};
  messenger.messageSeverity = VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT;
  messenger.messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT |
                          VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT;
  messenger.pfnUserCallback = on_debug_message;
  messenger.pUserData = on_message_.get();

  VkInstanceCreateInfo ci{VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO};
  ci.pApplicationInfo = &app;
  ci.enabledLayerCount = static_cast<uint32_t>(layers.size());
  ci.ppEnabledLayerNames = layers.data();
  ci.enabledExtensionCount = static_cast<uint32_t>(extensions.size());
  ci.ppEnabledExtensionNames = extensions.data();
  // The messenger in pNext also reports problems inside vkCreateInstance itself.
  const void* chain = debug_utils ? &messenger : nullptr;
  if (info.validation && info.sync_validation) {
    layer_settings.pNext = chain;
    chain = &layer_settings;
  }
  ci.pNext = chain;
  auto create = reinterpret_cast<PFN_vkCreateInstance>(
      dispatch_->get_instance_proc_addr(VK_NULL_HANDLE, "vkCreateInstance"));
  check(create(&ci, nullptr, &instance_), "vkCreateInstance");
  load_instance_table(*dispatch_, instance_);
  if (debug_utils)
    check(vk().instance.vkCreateDebugUtilsMessengerEXT(instance_, &messenger, nullptr, &messenger_),
          "vkCreateDebugUtilsMessengerEXT");
}

void Context::create_device(const ContextCreateInfo& info) {
  const auto pds = unique_physical_devices(vk(), instance_);
  const auto summaries = summarize(vk(), pds);
  std::optional<uint32_t> index = info.device_index;
  std::string name = info.device_name;
  if (!index && name.empty() && info.read_env) parse_device_env(index, name);
  physical_device_ = pds[choose_device(summaries, index, name)];

  std::vector<Feature> disabled = info.disable;
  if (info.read_env) {
    const auto env = parse_disable_env();
    disabled.insert(disabled.end(), env.begin(), env.end());
  }
  const DeviceRequirements req(dispatch_->get_instance_proc_addr, instance_, physical_device_, disabled);
  caps_ = req.caps();

  uint32_t timestamp_bits = 0;
  queue_family_ = compute_queue_family(vk(), physical_device_, &timestamp_bits);
  caps_.timestamp_valid_bits = timestamp_bits;
  if (timestamp_bits == 0) caps_.timestamp_period_ns = 0;
  const auto& enable_exts = req.extension_names();
  has_memory_budget_ = std::find_if(enable_exts.begin(), enable_exts.end(), [](const char* e) {
                         return std::string_view(e) == VK_EXT_MEMORY_BUDGET_EXTENSION_NAME;
                       }) != enable_exts.end();

  const float priority = 1.0f;
  VkDeviceQueueCreateInfo queue{VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO};
  queue.queueFamilyIndex = queue_family_;
  queue.queueCount = 1;
  queue.pQueuePriorities = &priority;
  VkDeviceCreateInfo ci{VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO, &req.chain()};
  ci.queueCreateInfoCount = 1;
  ci.pQueueCreateInfos = &queue;
  ci.enabledExtensionCount = static_cast<uint32_t>(enable_exts.size());
  ci.ppEnabledExtensionNames = enable_exts.data();
  check(vk().instance.vkCreateDevice(physical_device_, &ci, nullptr, &device_), "vkCreateDevice");
  load_device_table(*dispatch_, instance_, device_);
  if (info.patch_dispatch) info.patch_dispatch(*dispatch_);
  vk().device.vkGetDeviceQueue(device_, queue_family_, 0, &queue_);
  finish_setup(info.pipeline_cache_dir, info.pipeline_cache_on_disk, info.tune_kernels && !(info.read_env && tune_env_off()));
}

void Context::finish_setup(const std::filesystem::path& cache_dir, bool cache_on_disk, bool tune) {
  const auto& d = vk().device;
  const auto& in = vk().instance;
  VmaVulkanFunctions fns{};
  fns.vkGetInstanceProcAddr = dispatch_->get_instance_proc_addr;
  fns.vkGetDeviceProcAddr = dispatch_->get_device_proc_addr;
  fns.vkGetPhysicalDeviceProperties = in.vkGetPhysicalDeviceProperties;
  fns.vkGetPhysicalDeviceMemoryProperties = in.vkGetPhysicalDeviceMemoryProperties;
  fns.vkAllocateMemory = d.vkAllocateMemory;
  fns.vkFreeMemory = d.vkFreeMemory;
  fns.vkMapMemory = d.vkMapMemory;
  fns.vkUnmapMemory = d.vkUnmapMemory;
  fns.vkFlushMappedMemoryRanges = d.vkFlushMappedMemoryRanges;
  fns.vkInvalidateMappedMemoryRanges = d.vkInvalidateMappedMemoryRanges;
  fns.vkBindBufferMemory = d.vkBindBufferMemory;
  fns.vkBindImageMemory = d.vkBindImageMemory;
  fns.vkGetBufferMemoryRequirements = d.vkGetBufferMemoryRequirements;
  fns.vkGetImageMemoryRequirements = d.vkGetImageMemoryRequirements;
  fns.vkCreateBuffer = d.vkCreateBuffer;
  fns.vkDestroyBuffer = d.vkDestroyBuffer;
  fns.vkCreateImage = d.vkCreateImage;
  fns.vkDestroyImage = d.vkDestroyImage;
  fns.vkCmdCopyBuffer = d.vkCmdCopyBuffer;
  fns.vkGetBufferMemoryRequirements2KHR = d.vkGetBufferMemoryRequirements2;
  fns.vkGetImageMemoryRequirements2KHR = d.vkGetImageMemoryRequirements2;
  fns.vkBindBufferMemory2KHR = d.vkBindBufferMemory2;
  fns.vkBindImageMemory2KHR = d.vkBindImageMemory2;
  fns.vkGetPhysicalDeviceMemoryProperties2KHR = in.vkGetPhysicalDeviceMemoryProperties2;
  fns.vkGetDeviceBufferMemoryRequirements = d.vkGetDeviceBufferMemoryRequirements;
  fns.vkGetDeviceImageMemoryRequirements = d.vkGetDeviceImageMemoryRequirements;

  VmaAllocatorCreateInfo ai{};
  ai.vulkanApiVersion = VK_API_VERSION_1_3;
  ai.physicalDevice = physical_device_;
  ai.device = device_;
  ai.instance = instance_;
  ai.pVulkanFunctions = &fns;
  if (has_memory_budget_) ai.flags |= VMA_ALLOCATOR_CREATE_EXT_MEMORY_BUDGET_BIT;
  if (caps_.enabled(Feature::BufferDeviceAddress)) ai.flags |= VMA_ALLOCATOR_CREATE_BUFFER_DEVICE_ADDRESS_BIT;
  check(vmaCreateAllocator(&ai, &allocator_), "vmaCreateAllocator");

  VkCommandPoolCreateInfo pool{VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO};
  pool.flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT;
  pool.queueFamilyIndex = queue_family_;
  check(d.vkCreateCommandPool(device_, &pool, nullptr, &command_pool_), "vkCreateCommandPool");
  VkFenceCreateInfo fence{VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
  check(d.vkCreateFence(device_, &fence, nullptr, &run_fence_), "vkCreateFence");
  caps_.heaps = query_heaps(vk(), physical_device_, has_memory_budget_);
  pipelines_ = std::make_unique<PipelineRegistry>(*this, cache_file(caps_, cache_dir, cache_on_disk, "pipelines-", false, ".bin"));
  if (!caps_.enabled(Feature::PushDescriptor)) descriptor_sets_ = std::make_unique<DescriptorSets>(*this);
  tuning_ = std::make_unique<TuningStore>(cache_file(caps_, cache_dir, cache_on_disk, "tuning-", true, ".json"), tune);
}

namespace {

// Holds a host's lock on a shared queue for one call (no-op without one).
class QueueGuard {
public:
  QueueGuard(const std::function<void()>& lock, const std::function<void()>& unlock) : unlock_(unlock) {
    if (lock) lock();
  }
  ~QueueGuard() {
    if (unlock_) unlock_();
  }
  QueueGuard(const QueueGuard&) = delete;
  QueueGuard& operator=(const QueueGuard&) = delete;

private:
  const std::function<void()>& unlock_;
};

std::vector<VkSemaphoreSubmitInfo> semaphore_infos(std::span<const TimelinePoint> points) {
  std::vector<VkSemaphoreSubmitInfo> out;
  for (const TimelinePoint& p : points) {
    if (!p.semaphore) throw Error("a timeline point without a semaphore", "pass the host's timeline semaphore");
    out.push_back({VK_STRUCTURE_TYPE_SEMAPHORE_SUBMIT_INFO, nullptr, p.semaphore, p.value,
                   VK_PIPELINE_STAGE_2_ALL_COMMANDS_BIT, 0});
  }
  return out;
}

}  // namespace

Context::~Context() { destroy(); }

void Context::destroy() noexcept {
  if (device_) {
    const auto& d = vk().device;
    // A lost device fails the wait; destruction goes on regardless. On an adopted device only
    // our queue is waited for (under the host's lock): its other queues are the host's business.
    if (owns_device_ && d.vkDeviceWaitIdle) {
      d.vkDeviceWaitIdle(device_);
    } else if (d.vkQueueWaitIdle && queue_) {
      const QueueGuard guard(lock_queue_, unlock_queue_);
      d.vkQueueWaitIdle(queue_);
    }
    pipelines_.reset();
    descriptor_sets_.reset();
    if (run_fence_) d.vkDestroyFence(device_, run_fence_, nullptr);
    if (command_pool_) d.vkDestroyCommandPool(device_, command_pool_, nullptr);
    if (allocator_) vmaDestroyAllocator(allocator_);
    if (owns_device_) d.vkDestroyDevice(device_, nullptr);
  }
  run_fence_ = VK_NULL_HANDLE;
  command_pool_ = VK_NULL_HANDLE;
  allocator_ = nullptr;
  device_ = VK_NULL_HANDLE;
  if (owns_device_ && instance_) {
    if (messenger_) vk().instance.vkDestroyDebugUtilsMessengerEXT(instance_, messenger_, nullptr);
    vk().instance.vkDestroyInstance(instance_, nullptr);
  }
  messenger_ = VK_NULL_HANDLE;
  instance_ = VK_NULL_HANDLE;
}

void Context::run_now(const std::function<void(VkCommandBuffer)>& record) {
  const auto& d = vk().device;
  VkCommandBufferAllocateInfo ai{VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO};
  ai.commandPool = command_pool_;
  ai.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
  ai.commandBufferCount = 1;
  VkCommandBuffer cmd = VK_NULL_HANDLE;
  check(d.vkAllocateCommandBuffers(device_, &ai, &cmd), "vkAllocateCommandBuffers");
  struct Free {
    const Context& c;
    VkCommandBuffer cmd;
    ~Free() { c.vk().device.vkFreeCommandBuffers(c.device(), c.command_pool_, 1, &cmd); }
  } free_cmd{*this, cmd};
  VkCommandBufferBeginInfo bi{VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
  bi.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT;
  check(d.vkBeginCommandBuffer(cmd, &bi), "vkBeginCommandBuffer");
  record(cmd);
  check(d.vkEndCommandBuffer(cmd), "vkEndCommandBuffer");
  check(d.vkResetFences(device_, 1, &run_fence_), "vkResetFences");
  submit({&cmd, 1}, run_fence_);
  check(d.vkWaitForFences(device_, 1, &run_fence_, VK_TRUE, UINT64_MAX), "vkWaitForFences");
}

void Context::submit(std::span<const VkCommandBuffer> commands, VkFence fence, const SubmitSync& sync) {
  std::vector<VkCommandBufferSubmitInfo> infos;
  for (VkCommandBuffer c : commands) infos.push_back({VK_STRUCTURE_TYPE_COMMAND_BUFFER_SUBMIT_INFO, nullptr, c, 0});
  const auto waits = semaphore_infos(sync.wait), signals = semaphore_infos(sync.signal);
  VkSubmitInfo2 si{VK_STRUCTURE_TYPE_SUBMIT_INFO_2};
  si.waitSemaphoreInfoCount = static_cast<uint32_t>(waits.size());
  si.pWaitSemaphoreInfos = waits.data();
  si.commandBufferInfoCount = static_cast<uint32_t>(infos.size());
  si.pCommandBufferInfos = infos.data();
  si.signalSemaphoreInfoCount = static_cast<uint32_t>(signals.size());
  si.pSignalSemaphoreInfos = signals.data();
  const QueueGuard guard(lock_queue_, unlock_queue_);
  check(vk().device.vkQueueSubmit2(queue_, 1, &si, fence), "vkQueueSubmit2");
}

bool Context::device_lost() const {
  return run_fence_ && vk().device.vkGetFenceStatus(device_, run_fence_) == VK_ERROR_DEVICE_LOST;
}

void Context::wait_idle() {
  const QueueGuard guard(lock_queue_, unlock_queue_);
  check(vk().device.vkQueueWaitIdle(queue_), "vkQueueWaitIdle");
}

std::vector<MemoryHeap> Context::memory_heaps() const {
  return query_heaps(vk(), physical_device_, has_memory_budget_);
}

VkDeviceSize Context::allocated_bytes() const {
  VmaTotalStatistics stats{};
  vmaCalculateStatistics(allocator_, &stats);
  return stats.total.statistics.blockBytes;
}

}  // namespace vkgrad::vk
