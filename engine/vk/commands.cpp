#include "vkgrad/vk/commands.hpp"

#include "vk/dispatch.hpp"
#include "vkgrad/error.hpp"
#include "vkgrad/vk/context.hpp"

#include <string>
#include <utility>

namespace vkgrad::vk {

Fence::Fence(Context& ctx) : ctx_(&ctx) {
  VkFenceCreateInfo fi{VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
  check(ctx.vk().device.vkCreateFence(ctx.device(), &fi, nullptr, &fence_), "vkCreateFence");
}

Fence::~Fence() {
  if (fence_) ctx_->vk().device.vkDestroyFence(ctx_->device(), fence_, nullptr);
}

Fence::Fence(Fence&& other) noexcept
    : ctx_(other.ctx_), fence_(std::exchange(other.fence_, VK_NULL_HANDLE)) {}

Fence& Fence::operator=(Fence&& other) noexcept {
  if (this != &other) {
    if (fence_) ctx_->vk().device.vkDestroyFence(ctx_->device(), fence_, nullptr);
    ctx_ = other.ctx_;
    fence_ = std::exchange(other.fence_, VK_NULL_HANDLE);
  }
  return *this;
}

void Fence::reset() { check(ctx_->vk().device.vkResetFences(ctx_->device(), 1, &fence_), "vkResetFences"); }

void Fence::wait(const char* what) const {
  check(ctx_->vk().device.vkWaitForFences(ctx_->device(), 1, &fence_, VK_TRUE, UINT64_MAX),
        ("vkWaitForFences (" + std::string(what) + ")").c_str());
}

bool Fence::wait_for(std::chrono::nanoseconds timeout, const char* what) const {
  const VkResult r = ctx_->vk().device.vkWaitForFences(ctx_->device(), 1, &fence_, VK_TRUE, uint64_t(timeout.count()));
  if (r == VK_TIMEOUT) return false;
  check(r, ("vkWaitForFences (" + std::string(what) + ")").c_str());
  return true;
}

bool Fence::signalled(const char* what) const {
  const VkResult r = ctx_->vk().device.vkGetFenceStatus(ctx_->device(), fence_);
  if (r == VK_NOT_READY) return false;
  check(r, ("vkGetFenceStatus (" + std::string(what) + ")").c_str());
  return true;
}

void Fence::wait_nothrow() const noexcept {
  ctx_->vk().device.vkWaitForFences(ctx_->device(), 1, &fence_, VK_TRUE, UINT64_MAX);
}

CommandPool::CommandPool(Context& ctx) : ctx_(ctx) {
  VkCommandPoolCreateInfo pi{VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO};
  pi.queueFamilyIndex = ctx.queue_family();
  check(ctx.vk().device.vkCreateCommandPool(ctx.device(), &pi, nullptr, &pool_), "vkCreateCommandPool");
}

CommandPool::~CommandPool() { ctx_.vk().device.vkDestroyCommandPool(ctx_.device(), pool_, nullptr); }

RecordedCommands CommandPool::record(const RecorderOptions& options, bool resubmitted,
                                     const std::function<void(Recorder&)>& body) {
  const auto& d = ctx_.vk().device;
  VkCommandBufferAllocateInfo ai{VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO};
  ai.commandPool = pool_;
  ai.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
  ai.commandBufferCount = 1;
  RecordedCommands out;
  check(d.vkAllocateCommandBuffers(ctx_.device(), &ai, &out.handle), "vkAllocateCommandBuffers");
  VkCommandBufferBeginInfo bi{VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
  bi.flags = resubmitted ? VK_COMMAND_BUFFER_USAGE_SIMULTANEOUS_USE_BIT : 0;
  check(d.vkBeginCommandBuffer(out.handle, &bi), "vkBeginCommandBuffer");
  auto rec = std::make_unique<Recorder>(ctx_, out.handle, options);
  body(*rec);
  if (options.timestamps) out.timed = std::move(rec);
  else rec.reset();
  check(d.vkEndCommandBuffer(out.handle), "vkEndCommandBuffer");
  return out;
}

}  // namespace vkgrad::vk
