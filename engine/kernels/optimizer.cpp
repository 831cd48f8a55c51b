#include "vkgrad/kernels/optimizer.hpp"

#include "vkgrad/error.hpp"
#include "vkgrad/vk/context.hpp"

#include <algorithm>

namespace vkgrad::kernels {
namespace {
constexpr uint32_t kWorkgroup = 256;  // shaders/optimizer.comp local_size_x
constexpr uint32_t kMaxGroups = 1024;
}  // namespace

Optimizer::Optimizer(vk::Context& ctx)
    : pipeline_(&ctx.pipelines().get({.shader = "optimizer", .bindings = 6, .push_constant_size = sizeof(OptimizerArgs)})) {}

void Optimizer::record(vk::Recorder& rec, const OptimizerArgs& args, const vk::BufferRange& state,
                       const vk::BufferRange& params, const vk::BufferRange& grads, const vk::BufferRange& exp_avg,
                       const vk::BufferRange& exp_avg_sq, std::optional<vk::BufferRange> copy) const {
  const uint64_t need = 4ull * args.n;
  if (params.size < need || grads.size < need || exp_avg.size < need || exp_avg_sq.size < need)
    throw Error("optimizer over " + std::to_string(args.n) + " parameters needs ranges of " + std::to_string(need) +
                    " bytes each",
                "size the master, gradient and moment buffers alike");
  if (copy && copy->size < 4ull * ((args.n + 1) / 2))
    throw Error("optimizer working copy range is too small for " + std::to_string(args.n) + " fp16 values", "");
  OptimizerArgs a = args;
  a.write_copy = copy ? 1 : 0;
  const vk::Binding b[] = {{state, vk::Access::Read},       {params, vk::Access::ReadWrite},
                           {grads, vk::Access::Read},       {exp_avg, vk::Access::ReadWrite},
                           {exp_avg_sq, vk::Access::ReadWrite}, {copy ? *copy : exp_avg, copy ? vk::Access::Write : vk::Access::Read}};
  const uint32_t pairs = (args.n + 1) / 2;
  rec.dispatch({.pipeline = pipeline_, .bindings = b, .push_constants = &a,
                .groups = {std::clamp((pairs + kWorkgroup - 1) / kWorkgroup, 1u, kMaxGroups), 1, 1},
                .label = "optimizer"});
}

}  // namespace vkgrad::kernels
