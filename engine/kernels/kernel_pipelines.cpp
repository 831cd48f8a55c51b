#include "vkgrad/kernels/kernel_pipelines.hpp"

#include "vkgrad/vk/context.hpp"

namespace vkgrad::kernels {

KernelPipelines::KernelPipelines(vk::Context& ctx, std::string shader, uint32_t bindings, uint32_t push_constant_size,
                                 uint32_t required_subgroup_size)
    : ctx_(ctx),
      base_{.shader = std::move(shader),
            .bindings = bindings,
            .push_constant_size = push_constant_size,
            .required_subgroup_size = required_subgroup_size} {}

const vk::Pipeline& KernelPipelines::get(std::initializer_list<vk::SpecConstant> spec) const {
  auto& p = cache_[std::vector<vk::SpecConstant>(spec)];
  if (!p) {
    vk::PipelineDesc desc = base_;
    desc.spec = spec;
    p = &ctx_.pipelines().get(desc);
  }
  return *p;
}

}  // namespace vkgrad::kernels
