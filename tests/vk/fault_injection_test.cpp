// Faults injected through the dispatch table surface as vkgrad::Error with the right result.
#include "vk/dispatch.hpp"
#include "vk_fixture.hpp"
#include "vkgrad/error.hpp"
#include "vkgrad/vk/buffer.hpp"

namespace vkgrad::test {
namespace {

VKAPI_ATTR VkResult VKAPI_CALL fail_allocation(VkDevice, const VkMemoryAllocateInfo*, const VkAllocationCallbacks*,
                                               VkDeviceMemory*) {
  return VK_ERROR_OUT_OF_DEVICE_MEMORY;
}

VKAPI_ATTR VkResult VKAPI_CALL lose_device(VkQueue, uint32_t, const VkSubmitInfo2*, VkFence) {
  return VK_ERROR_DEVICE_LOST;
}

using FaultInjection = VkTest;

TEST_F(FaultInjection, AllocationFailureIsAnError) {
  auto info = strict_create_info();
  info.pipeline_cache_on_disk = false;
  info.patch_dispatch = [](vk::DispatchTable& t) { t.device.vkAllocateMemory = fail_allocation; };
  vk::Context ctx(info);
  try {
    vk::Buffer buf(ctx, {.size = 1 << 20, .name = "activations"});
    FAIL() << "expected vkgrad::Error";
  } catch (const Error& e) {
    EXPECT_EQ(e.result(), VK_ERROR_OUT_OF_DEVICE_MEMORY);
    EXPECT_NE(std::string(e.what()).find("activations"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("smaller batch"), std::string::npos) << e.what();
  }
}

TEST_F(FaultInjection, DeviceLossIsAnError) {
  auto info = strict_create_info();
  info.pipeline_cache_on_disk = false;
  info.patch_dispatch = [](vk::DispatchTable& t) { t.device.vkQueueSubmit2 = lose_device; };
  vk::Context ctx(info);
  try {
    ctx.run_now([](VkCommandBuffer) {});
    FAIL() << "expected vkgrad::Error";
  } catch (const Error& e) {
    EXPECT_EQ(e.result(), VK_ERROR_DEVICE_LOST);
    EXPECT_EQ(e.call(), "vkQueueSubmit2");
    EXPECT_NE(std::string(e.what()).find("recreate the Context"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace vkgrad::test
