// vkgrad::vk::Context — one Vulkan device, its compute queue, memory allocator and pipelines.
//
// Owns what it creates (instance, debug messenger, device, VMA allocator, pipeline registry,
// command pool) and never what it adopts from a host application. Every Vulkan call of the
// engine goes through this context's dispatch table. Not thread-safe: use one Context from
// one thread at a time. Distinct Contexts, with the trainers and models made with them, may be
// driven from different threads at once (tests/train/threads_test.cpp does).
#pragma once

#include "vkgrad/vk/caps.hpp"
#include "vkgrad/vk/submit_sync.hpp"
#include "vkgrad/vk/tuning_store.hpp"

#include <vulkan/vulkan_core.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

typedef struct VmaAllocator_T* VmaAllocator;

namespace vkgrad::vk {

struct DispatchTable;  // engine/vk/dispatch.hpp
class PipelineRegistry;
class DescriptorSets;

enum class Severity { Verbose, Info, Warning, Error };

// One message from the validation layer (or any VK_EXT_debug_utils source).
struct ValidationMessage {
  Severity severity = Severity::Info;
  std::string id_name;  // "VUID-vkCmdDispatch-None-08114", "SYNC-HAZARD-READ-AFTER-WRITE", ...
  int32_t id_number = 0;
  std::string text;
};
using ValidationCallback = std::function<void(const ValidationMessage&)>;

struct ContextCreateInfo {
  // Device choice. Empty/nullopt: VKGRAD_DEVICE (index or name substring) when `read_env`,
  // else the best device: discrete > integrated > virtual > CPU.
  std::optional<uint32_t> device_index;
  std::string device_name;  // substring of the device name, case-insensitive

  // Features to leave disabled even where supported, so that one device can exercise every
  // kernel path. Added to the names in VKGRAD_DISABLE when `read_env`.
  std::vector<Feature> disable;
  bool read_env = true;  // honour VKGRAD_DEVICE and VKGRAD_DISABLE

  // Khronos validation layer, with synchronization validation. Messages go to `on_message`
  // (default: warnings and errors printed to stderr). VKGRAD_VALIDATION=1 turns it on too
  // when `read_env`.
  bool validation = false;
  bool sync_validation = true;  // only with `validation`
  ValidationCallback on_message;

  // VkPipelineCache on disk, keyed by the device's pipelineCacheUUID. Empty: the user's cache
  // folder (XDG_CACHE_HOME, else HOME/.cache, else LOCALAPPDATA) + "/vkgrad". Off: nothing
  // read or written.
  std::filesystem::path pipeline_cache_dir;
  bool pipeline_cache_on_disk = true;
  // Kernels with several variants (GEMM) time them at first use of a shape class and keep the
  // fastest correct one in a tuning file beside the pipeline cache (see TuningStore). Off
  // (also VKGRAD_TUNE=0 when `read_env`): the rule-based choice, as tests use.
  bool tune_kernels = true;

  // Where Vulkan entry points come from. Null: the system's Vulkan loader.
  PFN_vkGetInstanceProcAddr get_instance_proc_addr = nullptr;
  // Called once the dispatch table is loaded and before anything uses it; tests wrap chosen
  // entries here to inject faults. Must leave every entry callable.
  std::function<void(DispatchTable&)> patch_dispatch;

  const char* application_name = "vkgrad";
};

// A host application's Vulkan objects for vkgrad to work inside. The Context borrows them: they
// must outlive it. The host creates the device with what vk::DeviceRequirements lists (merged
// into its own VkDeviceCreateInfo with add_to) and passes that object's features() and
// extensions() here; anything required that they lack is reported at once, in one Error.
// Listing BufferDeviceAddress also promises that every buffer handed to vkgrad kernels was
// created with SHADER_DEVICE_ADDRESS usage.
struct AdoptInfo {
  PFN_vkGetInstanceProcAddr get_instance_proc_addr = nullptr;  // required
  PFN_vkGetDeviceProcAddr get_device_proc_addr = nullptr;      // the host's; null: the instance's
  VkInstance instance = VK_NULL_HANDLE;
  VkPhysicalDevice physical_device = VK_NULL_HANDLE;
  VkDevice device = VK_NULL_HANDLE;
  VkQueue queue = VK_NULL_HANDLE;  // must support compute
  uint32_t queue_family = 0;
  uint32_t api_version = VK_API_VERSION_1_3;  // what the host's instance was created with
  std::vector<Feature> enabled;  // the features the host enabled on `device`
  std::vector<std::string> extensions;  // the device extensions it enabled
  // (vk::DeviceRequirements says what to enable: its features() and extensions() go here.)
  std::filesystem::path pipeline_cache_dir;
  bool pipeline_cache_on_disk = true;
  bool tune_kernels = true;  // as ContextCreateInfo::tune_kernels
  // Where the host shares `queue` with other threads: called around every vkgrad call on it
  // (submissions, waits for idle), to hold the host's lock on that queue. Null: none taken.
  std::function<void()> lock_queue, unlock_queue;
};


class Context {
public:
  explicit Context(const ContextCreateInfo& info = {});
  explicit Context(const AdoptInfo& info);
  ~Context();
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  const Caps& caps() const { return caps_; }
  const DispatchTable& vk() const { return *dispatch_; }
  VkInstance instance() const { return instance_; }
  VkPhysicalDevice physical_device() const { return physical_device_; }
  VkDevice device() const { return device_; }
  VkQueue queue() const { return queue_; }
  uint32_t queue_family() const { return queue_family_; }
  VmaAllocator allocator() const { return allocator_; }
  PipelineRegistry& pipelines() { return *pipelines_; }
  // The descriptor sets the passes bind where push descriptors are off; null where they are on.
  DescriptorSets* descriptor_sets() { return descriptor_sets_.get(); }
  TuningStore& tuning() { return *tuning_; }
  bool owns_device() const { return owns_device_; }

  // Records commands with `record`, submits them and waits. For set-up work (uploads,
  // read-backs, tests); training steps use prerecorded command buffers instead.
  void run_now(const std::function<void(VkCommandBuffer)>& record);
  // Submits prerecorded command buffers; signals `fence` when done (may be null), and waits
  // and signals the timeline points of `sync`.
  void submit(std::span<const VkCommandBuffer> commands, VkFence fence, const SubmitSync& sync = {});
  void wait_idle();
  // Whether the device reports itself lost (a fence query: cheap, never waits). For telling a
  // lost device from the errors other calls turn it into.
  bool device_lost() const;

  // Memory heaps with the current budget (VK_EXT_memory_budget) refreshed.
  std::vector<MemoryHeap> memory_heaps() const;
  // Device memory this Context's allocator holds now (its blocks, over every heap).
  VkDeviceSize allocated_bytes() const;

private:
  void create_instance(const ContextCreateInfo& info);
  void create_device(const ContextCreateInfo& info);
  void finish_setup(const std::filesystem::path& cache_dir, bool cache_on_disk, bool tune);
  void destroy() noexcept;

  std::unique_ptr<DispatchTable> dispatch_;
  Caps caps_;
  VkInstance instance_ = VK_NULL_HANDLE;
  VkDebugUtilsMessengerEXT messenger_ = VK_NULL_HANDLE;
  VkPhysicalDevice physical_device_ = VK_NULL_HANDLE;
  VkDevice device_ = VK_NULL_HANDLE;
  VkQueue queue_ = VK_NULL_HANDLE;
  uint32_t queue_family_ = 0;
  std::function<void()> lock_queue_, unlock_queue_;  // the host's, around calls on queue_
  bool owns_device_ = true;
  bool has_memory_budget_ = false;  // adopted devices: the host chose the extensions; assume none
  VmaAllocator allocator_ = nullptr;
  VkCommandPool command_pool_ = VK_NULL_HANDLE;
  VkFence run_fence_ = VK_NULL_HANDLE;
  std::unique_ptr<PipelineRegistry> pipelines_;
  std::unique_ptr<DescriptorSets> descriptor_sets_;
  std::unique_ptr<TuningStore> tuning_;
  std::unique_ptr<ValidationCallback> on_message_;  // stable address for the messenger
};

// Every physical device, each listed once (duplicates by deviceUUID dropped), in the order the
// loader reports them; `index` is what ContextCreateInfo::device_index and VKGRAD_DEVICE take.
struct DeviceSummary {
  uint32_t index = 0;
  std::string name;
  VkPhysicalDeviceType type = VK_PHYSICAL_DEVICE_TYPE_OTHER;
  uint32_t api_version = 0;
};

std::vector<DeviceSummary> list_devices();

// The choice rule, pure for testing: index or name substring if given, else the best type
// (discrete > integrated > virtual > CPU > other), first listed among equals. Throws Error
// naming the devices when the request matches none.
uint32_t choose_device(std::span<const DeviceSummary> devices, std::optional<uint32_t> index,
                       const std::string& name_substring);

}  // namespace vkgrad::vk
