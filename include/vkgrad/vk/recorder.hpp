// vkgrad::vk::Recorder — records kernels into one command buffer with the fewest barriers.
//
// Each command declares the buffer ranges it reads and writes; a synchronization2 barrier is
// inserted only before a command whose ranges overlap earlier unsynchronized ones with a
// hazard (read-after-write, write-after-read, write-after-write). Ranges, not whole buffers,
// are compared, so tensors packed into one buffer do not serialize each other. Hazards are
// tracked within one command buffer only: work that follows another command buffer starts
// with `begin_with_barrier`.
//
// Buffers are bound with push descriptors, which live in the command buffer, so a Recorder may
// be destroyed once recording is done — unless it records timestamps: it owns their query pool,
// so keep it alive until `timings()` has been read. One thread at a time.
#pragma once

#include "vkgrad/vk/buffer.hpp"
#include "vkgrad/vk/host_recording.hpp"
#include "vkgrad/vk/pipeline.hpp"

#include <vulkan/vulkan_core.h>

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace vkgrad::vk {

class Context;

enum class Access { Read, Write, ReadWrite };

// One storage-buffer binding of a dispatch: bound at binding = its index in the span.
struct Binding {
  BufferRange range;
  Access access = Access::Read;
};

struct DispatchInfo {
  const Pipeline* pipeline = nullptr;
  std::span<const Binding> bindings;  // exactly pipeline->bindings entries
  const void* push_constants = nullptr;  // pipeline->push_constant_size bytes
  std::array<uint32_t, 3> groups{1, 1, 1};
  std::string label;  // names the dispatch in timestamp results
};

struct RecorderOptions {
  bool timestamps = false;        // a timestamp before and after each dispatch (if supported)
  uint32_t max_timestamps = 512;  // dispatches timed at most
  // Start with a barrier ordering all earlier compute and transfer work on the queue.
  bool begin_with_barrier = false;
};

struct DispatchTiming {
  std::string label;
  double ms = 0;
};

class Recorder {
public:
  // `cmd` must be in the recording state; the Recorder records into it until destroyed.
  Recorder(Context& ctx, VkCommandBuffer cmd, const RecorderOptions& options = {});
  ~Recorder();
  Recorder(const Recorder&) = delete;
  Recorder& operator=(const Recorder&) = delete;

  void dispatch(const DispatchInfo& info);
  void copy(const BufferRange& src, const BufferRange& dst);
  void fill(const BufferRange& dst, uint32_t value);  // offset and size multiples of 4
  // Makes device writes to `range` visible to host reads once the command buffer completes.
  void host_read(const BufferRange& range);
  // Writes `data` (a multiple of 4 bytes, at most 65536) into `dst` from the command buffer
  // itself (vkCmdUpdateBuffer), as a transfer write.
  void update(const BufferRange& dst, std::span<const std::byte> data);
  // Records `barrier` as it is (a dependency a host needs around vkgrad's work); what follows
  // starts with nothing pending.
  void memory_dependency(const VkMemoryBarrier2& barrier);

  VkCommandBuffer command_buffer() const { return cmd_; }
  uint32_t barrier_count() const { return barriers_; }
  // After the command buffer has completed: the GPU time of each timed dispatch.
  std::vector<DispatchTiming> timings() const;

private:
  struct Tracked {
    VkBuffer buffer;
    VkDeviceSize begin, end;
    bool write;
    VkPipelineStageFlags2 stage;
  };
  struct Use {
    BufferRange range;
    bool write;
  };
  void before(std::span<const Use> uses, VkPipelineStageFlags2 stage);
  void barrier(VkPipelineStageFlags2 src_stage, VkAccessFlags2 src_access, VkPipelineStageFlags2 dst_stage,
               VkAccessFlags2 dst_access);

  Context& ctx_;
  VkCommandBuffer cmd_;
  RecorderOptions options_;
  std::vector<Tracked> tracked_;
  VkQueryPool queries_ = VK_NULL_HANDLE;
  std::vector<std::string> timed_labels_;
  uint32_t barriers_ = 0;
};

}  // namespace vkgrad::vk
