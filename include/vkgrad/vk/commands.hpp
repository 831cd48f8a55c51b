// vkgrad::vk::Fence and vkgrad::vk::CommandPool — RAII for the command buffers a trainer records
// once and replays, and the fences that say when a replay finished.
//
// A CommandPool owns its command buffers (freed with the pool); a Fence owns one VkFence. Both
// wait for nothing on destruction: the owner waits for its submissions first. Neither is
// thread-safe (Vulkan requires external synchronization of pools and fences).
#pragma once

#include "vkgrad/vk/recorder.hpp"

#include <vulkan/vulkan_core.h>

#include <chrono>
#include <functional>
#include <memory>

namespace vkgrad::vk {

class Context;

class Fence {
public:
  Fence() = default;
  explicit Fence(Context& ctx);
  ~Fence();
  Fence(Fence&& other) noexcept;
  Fence& operator=(Fence&& other) noexcept;

  VkFence handle() const { return fence_; }
  explicit operator bool() const { return fence_ != VK_NULL_HANDLE; }
  void reset();
  // Blocks until signalled; `what` names the work in the error.
  void wait(const char* what) const;
  // Blocks until signalled or `timeout` has passed: signalled yet?
  bool wait_for(std::chrono::nanoseconds timeout, const char* what) const;
  // Signalled yet? Device loss and other errors throw.
  bool signalled(const char* what) const;
  // For destructors: waits, ignoring errors (after a device loss there is nothing to wait for).
  void wait_nothrow() const noexcept;

private:
  Context* ctx_ = nullptr;
  VkFence fence_ = VK_NULL_HANDLE;
};

// A command buffer recorded once, with its Recorder kept when it records timestamps (the
// Recorder owns their query pool and reads them back).
struct RecordedCommands {
  VkCommandBuffer handle = VK_NULL_HANDLE;
  std::unique_ptr<Recorder> timed;
};

class CommandPool {
public:
  explicit CommandPool(Context& ctx);
  ~CommandPool();
  CommandPool(const CommandPool&) = delete;
  CommandPool& operator=(const CommandPool&) = delete;

  // Allocates a primary command buffer and records `body` into it through a Recorder with
  // `options`. `resubmitted`: it may be submitted again while an earlier submission is pending
  // (SIMULTANEOUS_USE), as a training step's passes are.
  RecordedCommands record(const RecorderOptions& options, bool resubmitted,
                          const std::function<void(Recorder&)>& body);

private:
  Context& ctx_;
  VkCommandPool pool_ = VK_NULL_HANDLE;
};

}  // namespace vkgrad::vk
