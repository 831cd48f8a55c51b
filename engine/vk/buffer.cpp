#include "vkgrad/vk/buffer.hpp"

#include "descriptor_sets.hpp"

#include "barrier.hpp"
#include "dispatch.hpp"
#include "vkgrad/error.hpp"
#include "vkgrad/vk/context.hpp"

#include <vk_mem_alloc.h>

#include <cstring>
#include <utility>

namespace vkgrad::vk {

namespace {

// Set-up transfers run between submissions of recorded work; a barrier's scopes reach across
// submissions in submission order, so one on each side orders them against all compute and
// transfer work before and after.
void barrier(const Context& ctx, VkCommandBuffer cmd, VkPipelineStageFlags2 dst_stage, VkAccessFlags2 dst_access) {
  memory_barrier(ctx.vk(), cmd, kWorkStages, kWorkWrites, dst_stage, dst_access);
}

}  // namespace

Buffer::Buffer(Context& ctx, const BufferCreateInfo& info) : ctx_(&ctx), use_(info.use) {
  if (info.size == 0)
    throw Error("cannot create buffer '" + info.name + "' of size 0", "ask for at least one byte");
  size_ = (info.size + 3) & ~VkDeviceSize{3};

  VkBufferCreateInfo bi{VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO};
  bi.size = size_;
  bi.usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT;
  if (ctx.caps().enabled(Feature::BufferDeviceAddress)) bi.usage |= VK_BUFFER_USAGE_SHADER_DEVICE_ADDRESS_BIT;
  bi.sharingMode = VK_SHARING_MODE_EXCLUSIVE;
  VmaAllocationCreateInfo ai{};
  ai.usage = VMA_MEMORY_USAGE_AUTO;
  switch (use_) {
    case MemoryUse::Device: ai.usage = VMA_MEMORY_USAGE_AUTO_PREFER_DEVICE; break;
    case MemoryUse::Upload:
      ai.flags = VMA_ALLOCATION_CREATE_HOST_ACCESS_SEQUENTIAL_WRITE_BIT | VMA_ALLOCATION_CREATE_MAPPED_BIT;
      break;
    case MemoryUse::Readback:
      ai.flags = VMA_ALLOCATION_CREATE_HOST_ACCESS_RANDOM_BIT | VMA_ALLOCATION_CREATE_MAPPED_BIT;
      break;
  }
  VmaAllocationInfo out{};
  const VkResult r = vmaCreateBuffer(ctx.allocator(), &bi, &ai, &buffer_, &allocation_, &out);
  if (r != VK_SUCCESS) {
    buffer_ = VK_NULL_HANDLE;
    allocation_ = nullptr;
    // VMA answers a failed vkMapMemory with out-of-memory once no other memory type serves: a
    // lost device is what the caller must hear about.
    const VkResult why = r == VK_ERROR_OUT_OF_DEVICE_MEMORY && ctx.device_lost() ? VK_ERROR_DEVICE_LOST : r;
    throw Error(why, "vmaCreateBuffer (" + std::to_string(size_) + " bytes" +
                         (info.name.empty() ? "" : " for '" + info.name + "'") + ")");
  }
  mapped_ = out.pMappedData;
  if (!info.name.empty()) vmaSetAllocationName(ctx.allocator(), allocation_, info.name.c_str());
  if (info.fill_nan && use_ == MemoryUse::Device) {
    ctx.run_now([&](VkCommandBuffer cmd) {
      ctx.vk().device.vkCmdFillBuffer(cmd, buffer_, 0, size_, 0xFFFFFFFFu);
      barrier(ctx, cmd, kWorkStages, kWorkAccess);
    });
  }
}

Buffer::~Buffer() { release(); }

void Buffer::release() noexcept {
  // Descriptor sets holding this buffer go with it (a later buffer may get the same handle).
  if (buffer_ && ctx_->descriptor_sets()) ctx_->descriptor_sets()->forget(buffer_);
  if (buffer_) vmaDestroyBuffer(ctx_->allocator(), buffer_, allocation_);
  buffer_ = VK_NULL_HANDLE;
  allocation_ = nullptr;
  mapped_ = nullptr;
}

Buffer::Buffer(Buffer&& o) noexcept
    : ctx_(o.ctx_), buffer_(std::exchange(o.buffer_, VK_NULL_HANDLE)), allocation_(std::exchange(o.allocation_, nullptr)),
      mapped_(std::exchange(o.mapped_, nullptr)), size_(std::exchange(o.size_, 0)), use_(o.use_) {}

Buffer& Buffer::operator=(Buffer&& o) noexcept {
  if (this != &o) {
    release();
    ctx_ = o.ctx_;
    buffer_ = std::exchange(o.buffer_, VK_NULL_HANDLE);
    allocation_ = std::exchange(o.allocation_, nullptr);
    mapped_ = std::exchange(o.mapped_, nullptr);
    size_ = std::exchange(o.size_, 0);
    use_ = o.use_;
  }
  return *this;
}

BufferRange Buffer::range(VkDeviceSize offset, VkDeviceSize size) const {
  if (offset > size_ || size > size_ - offset)
    throw Error("buffer range [" + std::to_string(offset) + ", +" + std::to_string(size) +
                    ") lies outside a buffer of " + std::to_string(size_) + " bytes",
                "check the tensor's offset and size");
  return {buffer_, offset, size};
}

void* Buffer::mapped() const {
  if (!mapped_) throw Error("mapping a device-local buffer", "use MemoryUse::Upload or Readback for host access");
  return mapped_;
}

void Buffer::flush(VkDeviceSize offset, VkDeviceSize size) {
  check(vmaFlushAllocation(ctx_->allocator(), allocation_, offset, size), "vmaFlushAllocation");
}

void Buffer::invalidate(VkDeviceSize offset, VkDeviceSize size) {
  check(vmaInvalidateAllocation(ctx_->allocator(), allocation_, offset, size), "vmaInvalidateAllocation");
}

void upload(Context& ctx, const Buffer& dst, const void* data, size_t bytes, VkDeviceSize offset) {
  if (bytes == 0) return;
  const BufferRange target = dst.range(offset, bytes);
  Buffer staging(ctx, {.size = bytes, .use = MemoryUse::Upload, .name = "upload staging"});
  std::memcpy(staging.mapped(), data, bytes);
  staging.flush();
  ctx.run_now([&](VkCommandBuffer cmd) {
    barrier(ctx, cmd, kWorkStages, kWorkAccess);
    const VkBufferCopy region{0, target.offset, bytes};
    ctx.vk().device.vkCmdCopyBuffer(cmd, staging.handle(), target.buffer, 1, &region);
    barrier(ctx, cmd, kWorkStages, kWorkAccess);
  });
}

VkDeviceAddress device_address(const Context& ctx, const BufferRange& range) {
  if (!ctx.caps().enabled(Feature::BufferDeviceAddress))
    throw Error("a kernel needs the address of a buffer, but bufferDeviceAddress is not enabled",
                "enable VkPhysicalDeviceVulkan12Features::bufferDeviceAddress (required by Vulkan 1.3), or force a "
                "kernel variant that binds descriptors");
  VkBufferDeviceAddressInfo info{VK_STRUCTURE_TYPE_BUFFER_DEVICE_ADDRESS_INFO};
  info.buffer = range.buffer;
  return ctx.vk().device.vkGetBufferDeviceAddress(ctx.device(), &info) + range.offset;
}

void download(Context& ctx, const Buffer& src, void* data, size_t bytes, VkDeviceSize offset) {
  if (bytes == 0) return;
  const BufferRange source = src.range(offset, bytes);
  Buffer staging(ctx, {.size = bytes, .use = MemoryUse::Readback, .name = "download staging"});
  ctx.run_now([&](VkCommandBuffer cmd) {
    barrier(ctx, cmd, kWorkStages, kWorkAccess);
    const VkBufferCopy region{source.offset, 0, bytes};
    ctx.vk().device.vkCmdCopyBuffer(cmd, source.buffer, staging.handle(), 1, &region);
    barrier(ctx, cmd, VK_PIPELINE_STAGE_2_HOST_BIT, VK_ACCESS_2_HOST_READ_BIT);
  });
  staging.invalidate();
  std::memcpy(data, staging.mapped(), bytes);
}

}  // namespace vkgrad::vk
