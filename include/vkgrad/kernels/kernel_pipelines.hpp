// vkgrad::kernels::KernelPipelines — the pipelines of one kernel family (one shader, its
// bindings and push constants) by their specialization constants. The Context's registry owns
// the pipelines; this caches the lookups, filled on first use. Recording is const but fills the
// cache: one thread at a time, as the kernels that hold it.
#pragma once

#include "vkgrad/vk/pipeline.hpp"

#include <cstdint>
#include <initializer_list>
#include <map>
#include <string>
#include <vector>

namespace vkgrad::vk {
class Context;
}

namespace vkgrad::kernels {

class KernelPipelines {
public:
  // required_subgroup_size: as vk::PipelineDesc's (0: the device's choice).
  KernelPipelines(vk::Context& ctx, std::string shader, uint32_t bindings, uint32_t push_constant_size,
                  uint32_t required_subgroup_size = 0);
  const vk::Pipeline& get(std::initializer_list<vk::SpecConstant> spec) const;

private:
  vk::Context& ctx_;
  vk::PipelineDesc base_;
  mutable std::map<std::vector<vk::SpecConstant>, const vk::Pipeline*> cache_;
};

}  // namespace vkgrad::kernels
