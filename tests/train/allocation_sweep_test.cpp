// Device allocation failure at every site of a small training run: for N = 1, 2, ..., the N-th
// buffer creation or memory allocation (vkCreateBuffer, vkAllocateMemory) fails with
// VK_ERROR_OUT_OF_DEVICE_MEMORY, and so does every memory allocation after it (VMA would
// otherwise recover with a smaller block), during Context creation, trainer compilation, the
// first steps or the state's readback. Each run throws a vkgrad::Error with the result and the
// out-of-memory advice, or completes as the unfailed one does; either way everything is destroyed
// with no validation message (and, in the asan preset, no leak).
#include "numerics.hpp"
#include "small_models.hpp"
#include "vk/dispatch.hpp"
#include "vk_fixture.hpp"
#include "vkgrad/error.hpp"
#include "vkgrad/train/trainer.hpp"
#include "vkgrad/vk/context.hpp"

#include <optional>

namespace vkgrad::test {
namespace {

// The injected failure: a count of calls and the first to fail (0: none); the real entry points.
uint32_t g_calls = 0, g_fail_at = 0;
PFN_vkAllocateMemory g_allocate = nullptr;
PFN_vkCreateBuffer g_create = nullptr;

bool fails() { return ++g_calls == g_fail_at; }
bool failed() { return g_fail_at != 0 && g_calls >= g_fail_at; }

VKAPI_ATTR VkResult VKAPI_CALL counted_allocation(VkDevice d, const VkMemoryAllocateInfo* info,
                                                  const VkAllocationCallbacks* cb, VkDeviceMemory* out) {
  if (fails() || failed()) return VK_ERROR_OUT_OF_DEVICE_MEMORY;
  return g_allocate(d, info, cb, out);
}

VKAPI_ATTR VkResult VKAPI_CALL counted_buffer(VkDevice d, const VkBufferCreateInfo* info, const VkAllocationCallbacks* cb,
                                              VkBuffer* out) {
  if (fails()) return VK_ERROR_OUT_OF_DEVICE_MEMORY;
  return g_create(d, info, cb, out);
}

// The run under test; the flattened parameters when it completes.
std::vector<float> run(uint32_t fail_at) {
  g_calls = 0;
  g_fail_at = fail_at;
  auto info = strict_create_info();
  info.pipeline_cache_on_disk = false;
  info.patch_dispatch = [](vk::DispatchTable& t) {
    g_allocate = t.device.vkAllocateMemory;
    g_create = t.device.vkCreateBuffer;
    t.device.vkAllocateMemory = counted_allocation;
    t.device.vkCreateBuffer = counted_buffer;
  };
  vk::Context ctx(info);
  train::Trainer t(ctx, small_mse_mlp(), {.batch_size = 4});
  std::vector<float> x, y;
  for (double v : uniform(16, -1, 1, 5)) x.push_back(float(v));
  for (double v : uniform(8, -1, 1, 6)) y.push_back(float(v));
  for (int i = 0; i < 2; ++i) t.step({4, {{x}, {y}}});
  const auto state = t.save_state();
  std::vector<float> out;
  for (const auto& [name, tensor] : state.tensors) out.insert(out.end(), tensor.values.begin(), tensor.values.end());
  return out;
}

TEST(AllocationSweep, EveryDeviceAllocationMayFail) {
  const auto clean = run(0);
  const uint32_t sites = g_calls;
  ASSERT_GT(sites, 0u);
  uint32_t errors = 0, recovered = 0;
  for (uint32_t n = 1; n <= sites; ++n) {
    SCOPED_TRACE("allocation " + std::to_string(n) + " of " + std::to_string(sites) + " fails");
    try {
      EXPECT_EQ(run(n), clean) << "a run that recovered must train as the clean one";
      ++recovered;
    } catch (const Error& e) {
      ++errors;
      EXPECT_EQ(e.result(), VK_ERROR_OUT_OF_DEVICE_MEMORY) << e.what();
      EXPECT_NE(std::string(e.what()).find("smaller batch"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(" bytes for '"), std::string::npos) << "names what it allocated: " << e.what();
    }
    expect_no_validation_messages();
  }
  g_fail_at = 0;
  std::printf("allocation sweep: %u sites, %u errors, %u recovered\n", sites, errors, recovered);
  EXPECT_EQ(errors + recovered, sites);
}

}  // namespace
}  // namespace vkgrad::test
