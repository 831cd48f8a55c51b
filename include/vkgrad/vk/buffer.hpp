// vkgrad::vk::Buffer — one VkBuffer with its own Vulkan Memory Allocator allocation.
//
// Owns the buffer and its memory, frees both on destruction; move-only. Borrows the Context,
// which must outlive it. Host-visible buffers (Upload, Readback) stay mapped for their whole
// life; writes are flushed and reads invalidated explicitly, as non-coherent memory on real
// GPUs requires. One thread at a time per Buffer.
#pragma once

#include <vulkan/vulkan_core.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

typedef struct VmaAllocation_T* VmaAllocation;

namespace vkgrad::vk {

class Context;

enum class MemoryUse {
  Device,    // device-local: tensors, weights, anything the GPU reads and writes
  Upload,    // host-visible, written sequentially by the host, read by the device (staging)
  Readback,  // host-visible, written by the device, read by the host
};

struct BufferCreateInfo {
  VkDeviceSize size = 0;  // bytes; must be > 0. Rounded up to a multiple of 4.
  MemoryUse use = MemoryUse::Device;
  std::string name;  // shown by validation messages and debuggers; optional
  // Device buffers only: fill with 0xFF bytes (NaN as fp32 and as fp16) when created, so that
  // reading memory nobody wrote shows up in results instead of passing by chance.
  bool fill_nan = false;
};

// A byte range of a buffer, as kernels declare what they read and write.
struct BufferRange {
  VkBuffer buffer = VK_NULL_HANDLE;
  VkDeviceSize offset = 0;
  VkDeviceSize size = 0;  // bytes
  // `size` bytes from `offset` within this range (the caller keeps them inside it).
  BufferRange slice(VkDeviceSize at, VkDeviceSize bytes) const { return {buffer, offset + at, bytes}; }
  bool overlaps(const BufferRange& o) const {
    return buffer == o.buffer && offset < o.offset + o.size && o.offset < offset + size;
  }
};

class Buffer {
public:
  Buffer() = default;
  Buffer(Context& ctx, const BufferCreateInfo& info);
  ~Buffer();
  Buffer(Buffer&& other) noexcept;
  Buffer& operator=(Buffer&& other) noexcept;
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;

  VkBuffer handle() const { return buffer_; }
  VkDeviceSize size() const { return size_; }
  MemoryUse use() const { return use_; }
  explicit operator bool() const { return buffer_ != VK_NULL_HANDLE; }

  // The whole buffer, or `size` bytes from `offset` (checked against the buffer's size).
  BufferRange range() const { return {buffer_, 0, size_}; }
  BufferRange range(VkDeviceSize offset, VkDeviceSize size) const;

  // Host-visible buffers only.
  void* mapped() const;
  void flush(VkDeviceSize offset = 0, VkDeviceSize size = VK_WHOLE_SIZE);       // after host writes
  void invalidate(VkDeviceSize offset = 0, VkDeviceSize size = VK_WHOLE_SIZE);  // before host reads

private:
  void release() noexcept;

  Context* ctx_ = nullptr;
  VkBuffer buffer_ = VK_NULL_HANDLE;
  VmaAllocation allocation_ = nullptr;
  void* mapped_ = nullptr;
  VkDeviceSize size_ = 0;
  MemoryUse use_ = MemoryUse::Device;
};

// The device address of `range`'s first byte, for kernels that read through pointers. Needs
// the bufferDeviceAddress feature (Error otherwise) and a buffer with SHADER_DEVICE_ADDRESS
// usage, as every vk::Buffer of such a Context has.
VkDeviceAddress device_address(const Context& ctx, const BufferRange& range);

// Set-up transfers through a temporary staging buffer; each waits for the device. Not for
// per-step work: training steps upload through the trainer's staging ring.
void upload(Context& ctx, const Buffer& dst, const void* data, size_t bytes, VkDeviceSize offset = 0);
void download(Context& ctx, const Buffer& src, void* data, size_t bytes, VkDeviceSize offset = 0);

template <typename T>
void upload(Context& ctx, const Buffer& dst, std::span<const T> data, VkDeviceSize offset = 0) {
  upload(ctx, dst, data.data(), data.size_bytes(), offset);
}
template <typename T>
void download(Context& ctx, const Buffer& src, std::span<T> data, VkDeviceSize offset = 0) {
  download(ctx, src, data.data(), data.size_bytes(), offset);
}

}  // namespace vkgrad::vk
