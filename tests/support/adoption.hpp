// Adopting a device in tests: the AdoptInfo for a device the test holds through `host` (its
// handles, the features it has enabled, the extensions vk::DeviceRequirements lists; no
// on-disk pipeline cache, no tuning), and a check that a Context can run a kernel (y = 1 + 2
// over four fp32 values, through F32Add). Thread-safe as the Context they use.
#pragma once

#include "vkgrad/vk/context.hpp"

namespace vkgrad::test {

vk::AdoptInfo adoption_of(vk::Context& host);
void expect_f32_add_runs(vk::Context& ctx);

}  // namespace vkgrad::test
