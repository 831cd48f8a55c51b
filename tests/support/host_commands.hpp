// A host application's own Vulkan work in tests, on the test Context's device and queue: a
// command pool with one primary command buffer and a fence (HostCommands), and a compute
// pipeline built from SPIR-V the test compiled itself, run over storage buffers (run_compute).
// Not thread-safe.
#pragma once

#include "vkgrad/vk/buffer.hpp"
#include "vkgrad/vk/context.hpp"

#include <cstdint>
#include <span>
#include <vector>

namespace vkgrad::test {

struct HostCommands {
  explicit HostCommands(vk::Context& ctx);
  ~HostCommands();
  HostCommands(const HostCommands&) = delete;
  HostCommands& operator=(const HostCommands&) = delete;
  void begin();            // one-time submit
  void submit_and_wait();  // ends, submits on the Context's queue, waits

  vk::Context& ctx;
  VkCommandPool pool = VK_NULL_HANDLE;
  VkCommandBuffer cmd = VK_NULL_HANDLE;
  VkFence fence = VK_NULL_HANDLE;
};

// Runs `spirv` (a compute shader reading storage buffers 0..n-1 of set 0 and `push` as its push
// constants) over `groups` workgroups, and waits.
void run_compute(vk::Context& ctx, std::span<const uint32_t> spirv, std::span<const vk::BufferRange> buffers,
                 std::span<const std::byte> push, uint32_t groups);

// glslangValidator (VKGRAD_GLSLANG, see paths.hpp) on `source` with `include_dir`, for Vulkan 1.3: the SPIR-V,
// or a failed assertion with the compiler's output.
std::vector<uint32_t> compile_glsl(const std::string& source, const std::string& include_dir);

}  // namespace vkgrad::test
