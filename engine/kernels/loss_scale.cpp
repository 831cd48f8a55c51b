#include "vkgrad/kernels/loss_scale.hpp"

#include "vkgrad/vk/context.hpp"

#include <algorithm>

namespace vkgrad::kernels {
namespace {
// Specialization constant 0 of shaders/loss_scale.comp (common/workgroup_reduce.glsl), always
// given explicitly: lavapipe drops the barriers of a workgroup sized by an unspecialized constant.
constexpr uint32_t kWorkgroup = 256;
constexpr uint32_t kPerInvocation = 32;
constexpr uint32_t kMaxPartials = 1024;

struct UnscaleArgs {
  uint32_t n;
  float inv_micro_batches;
};
struct CheckArgs {
  uint32_t row_values;
  uint32_t halves;
};
struct FinalizeArgs {
  uint32_t partial_count;
  float max_norm;
  float inv_micro_batches;
};
}  // namespace

LossScale::LossScale(vk::Context& ctx)
    : check_inputs_(&ctx.pipelines().get({.shader = "loss_scale_check_inputs",
                                          .bindings = 2,
                                          .push_constant_size = sizeof(CheckArgs),
                                          .spec = {{0, kWorkgroup}}})),
      unscale_(&ctx.pipelines().get({.shader = "loss_scale_unscale",
                                     .bindings = 3,
                                     .push_constant_size = sizeof(UnscaleArgs),
                                     .spec = {{0, kWorkgroup}}})),
      finalize_(&ctx.pipelines().get({.shader = "loss_scale_finalize",
                                      .bindings = 3,
                                      .push_constant_size = sizeof(FinalizeArgs),
                                      .spec = {{0, kWorkgroup}}})),
      advance_(&ctx.pipelines().get({.shader = "loss_scale_advance",
                                     .bindings = 2,
                                     .push_constant_size = sizeof(AdvanceArgs),
                                     .spec = {{0, kWorkgroup}}})) {}

uint32_t LossScale::partial_count(uint32_t n) {
  const uint32_t per_group = kWorkgroup * kPerInvocation;
  return std::clamp((n + per_group - 1) / per_group, 1u, kMaxPartials);
}

void LossScale::check_inputs(vk::Recorder& rec, const vk::BufferRange& state, const vk::BufferRange& feed,
                             uint32_t rows, uint32_t row_values, bool halves) const {
  const CheckArgs args{row_values, halves ? 1u : 0u};
  const uint32_t per_group = kWorkgroup * kPerInvocation;
  const uint32_t groups = std::clamp((rows * row_values + per_group - 1) / per_group, 1u, kMaxPartials);
  const vk::Binding b[] = {{state, vk::Access::ReadWrite}, {feed, vk::Access::Read}};
  rec.dispatch({.pipeline = check_inputs_, .bindings = b, .push_constants = &args, .groups = {groups, 1, 1},
                .label = "loss_scale.check_inputs"});
}

void LossScale::unscale(vk::Recorder& rec, const vk::BufferRange& state, const vk::BufferRange& grads, uint32_t n,
                        const vk::BufferRange& partials, const vk::BufferRange& loss, float max_grad_norm,
                        uint32_t micro_batches) const {
  const uint32_t groups = partial_count(n);
  const UnscaleArgs ua{n, 1.0f / float(std::max(1u, micro_batches))};
  const vk::Binding b1[] = {{state, vk::Access::ReadWrite}, {grads, vk::Access::ReadWrite}, {partials, vk::Access::Write}};
  rec.dispatch({.pipeline = unscale_, .bindings = b1, .push_constants = &ua, .groups = {groups, 1, 1},
                .label = "loss_scale.unscale"});
  const FinalizeArgs fa{groups, max_grad_norm, ua.inv_micro_batches};
  const vk::Binding b2[] = {{state, vk::Access::ReadWrite}, {partials, vk::Access::Read}, {loss, vk::Access::Read}};
  rec.dispatch({.pipeline = finalize_, .bindings = b2, .push_constants = &fa, .groups = {1, 1, 1},
                .label = "loss_scale.finalize"});
}

void LossScale::advance(vk::Recorder& rec, const vk::BufferRange& state, const vk::BufferRange& record,
                        const AdvanceArgs& args) const {
  const vk::Binding b[] = {{state, vk::Access::ReadWrite}, {record, vk::Access::Write}};
  rec.dispatch({.pipeline = advance_, .bindings = b, .push_constants = &args, .groups = {1, 1, 1},
                .label = "loss_scale.advance"});
}

}  // namespace vkgrad::kernels
