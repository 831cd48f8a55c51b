#include "adoption.hpp"

#include "f32_add.hpp"
#include "numerics.hpp"
#include "vk/dispatch.hpp"
#include "vkgrad/vk/buffer.hpp"
#include "vkgrad/vk/requirements.hpp"

#include <gtest/gtest.h>

namespace vkgrad::test {

vk::AdoptInfo adoption_of(vk::Context& host) {
  vk::AdoptInfo adopt;
  adopt.get_instance_proc_addr = host.vk().get_instance_proc_addr;
  adopt.instance = host.instance();
  adopt.physical_device = host.physical_device();
  adopt.device = host.device();
  adopt.queue = host.queue();
  adopt.queue_family = host.queue_family();
  for (size_t i = 0; i < vk::kFeatureCount; ++i)
    if (host.caps().features[i].enabled) adopt.enabled.push_back(vk::Feature(i));
  adopt.extensions =
      vk::DeviceRequirements(host.vk().get_instance_proc_addr, host.instance(), host.physical_device()).extensions();
  adopt.pipeline_cache_on_disk = false;
  adopt.tune_kernels = false;
  return adopt;
}

void expect_f32_add_runs(vk::Context& ctx) {
  using kernels::ElemType;
  const F32Add add(ctx);
  vk::Buffer x(ctx, {.size = 16}), y(ctx, {.size = 16});
  const auto ones = encode(ElemType::F32, std::vector<double>(4, 1.0));
  const auto twos = encode(ElemType::F32, std::vector<double>(4, 2.0));
  vk::upload(ctx, x, ones.data(), ones.size());
  vk::upload(ctx, y, twos.data(), twos.size());
  ctx.run_now([&](VkCommandBuffer cmd) {
    vk::Recorder rec(ctx, cmd);
    add.record(rec, x.range(), y.range(), 4);
  });
  std::vector<std::byte> out(16);
  vk::download(ctx, y, out.data(), out.size());
  EXPECT_EQ(decode(ElemType::F32, out, 4), std::vector<double>(4, 3.0));
}

}  // namespace vkgrad::test
