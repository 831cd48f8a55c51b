#include "vkgrad/kernels/reduce.hpp"

#include "vkgrad/error.hpp"
#include "vkgrad/vk/context.hpp"

#include <algorithm>
#include <string>

namespace vkgrad::kernels {
namespace {
constexpr uint32_t kWorkgroup = 256;   // shaders/reduce.comp local_size_x
constexpr uint32_t kMaxPartials = 1024;

const vk::Pipeline* reduce_pipeline(vk::Context& ctx, Storage s) {
  return &ctx.pipelines().get({.shader = "reduce_" + std::string(storage_name(s)),
                               .bindings = 2,
                               .push_constant_size = sizeof(ReduceArgs)});
}
}  // namespace

ReduceSum::ReduceSum(vk::Context& ctx, Storage storage)
    : storage_(storage), first_(reduce_pipeline(ctx, storage)), second_(reduce_pipeline(ctx, Storage::F32)) {}

uint32_t ReduceSum::partial_count(uint32_t n) {
  const uint32_t pairs = (n + 1) / 2;
  return std::clamp((pairs + kWorkgroup - 1) / kWorkgroup, 1u, kMaxPartials);
}

void ReduceSum::record(vk::Recorder& rec, const vk::BufferRange& x, uint32_t n, const vk::BufferRange& partials,
                       const vk::BufferRange& out) const {
  const uint32_t groups = partial_count(n);
  if (x.size < storage_bytes(storage_, n) || partials.size < 4ull * groups || out.size < 4)
    throw Error("reduce over " + std::to_string(n) + " elements needs x of " +
                    std::to_string(storage_bytes(storage_, n)) + " bytes, " + std::to_string(groups) +
                    " partial floats and one output float",
                "size the scratch with ReduceSum::partial_count()");
  const ReduceArgs first{n};
  const vk::Binding b1[] = {{x, vk::Access::Read}, {partials, vk::Access::Write}};
  rec.dispatch({.pipeline = first_, .bindings = b1, .push_constants = &first, .groups = {groups, 1, 1},
                .label = "reduce.partials"});
  const ReduceArgs second{groups};
  const vk::Binding b2[] = {{partials, vk::Access::Read}, {out, vk::Access::Write}};
  rec.dispatch({.pipeline = second_, .bindings = b2, .push_constants = &second, .groups = {1, 1, 1},
                .label = "reduce.final"});
}

}  // namespace vkgrad::kernels
