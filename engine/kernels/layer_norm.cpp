#include "vkgrad/kernels/layer_norm.hpp"

#include "vkgrad/error.hpp"
#include "vkgrad/kernels/variant.hpp"
#include "vkgrad/vk/context.hpp"

#include <algorithm>
#include <string>

namespace vkgrad::kernels {
namespace {

constexpr uint32_t kModeForward = 0, kModeBackwardDx = 1, kModeBackwardParams = 2;
constexpr uint32_t kAccumulate = 1, kNoDx = 2;
constexpr uint32_t kParamColumns = 32;  // per workgroup in MODE_BWD_PARAMS

void check_shape(const char* op, uint32_t rows, uint32_t dim, float eps) {
  if (dim == 0 || uint64_t(rows) * dim >= 0xFFFFFFFFull || !(eps > 0.0f))
    throw Error(std::string("layer norm ") + op + " over " + std::to_string(rows) + " rows of " + std::to_string(dim) +
                    " with eps " + std::to_string(eps),
                "normalize rows of at least one element, fewer than 2^32 - 1 in all, with eps > 0");
}

void check_disjoint(const char* op, const TensorRef& out, const TensorRef& in, const char* in_name) {
  if (out.range.overlaps(in.range))
    throw Error(std::string("layer norm ") + op + ": the output overlaps " + in_name, "write it to a range of its own");
}

}  // namespace

LayerNorm::LayerNorm(vk::Context& ctx) : ctx_(ctx), pipelines_(ctx, "layer_norm", 8, sizeof(LayerNormArgs)) {}

void LayerNorm::forward(vk::Recorder& rec, const TensorRef& x, const TensorRef& gamma, const TensorRef& beta,
                        const TensorRef& y, uint32_t rows, uint32_t dim, float eps) const {
  check_shape("forward", rows, dim, eps);
  require_elements("layer norm forward", "x", x, uint64_t(rows) * dim);
  require_elements("layer norm forward", "y", y, uint64_t(rows) * dim);
  require_elements("layer norm forward", "gamma", gamma, dim);
  require_elements("layer norm forward", "beta", beta, dim);
  if (gamma.type != beta.type)
    throw Error("layer norm forward: gamma and beta have different element types", "store them alike");
  check_disjoint("forward", y, x, "x");
  if (rows == 0) return;
  const LayerNormArgs args{kModeForward, rows, dim, eps, 0};
  // Bindings the shader may write but this mode does not (5-7) name y again, declared written.
  const vk::Access out = y.type == ElemType::F16 ? vk::Access::ReadWrite : vk::Access::Write;
  const vk::Binding b[] = {{x.range, vk::Access::Read},     {x.range, vk::Access::Read},
                           {y.range, out},                  {gamma.range, vk::Access::Read},
                           {beta.range, vk::Access::Read},  {y.range, out},
                           {y.range, out},                  {y.range, out}};
  rec.dispatch({.pipeline = &pipeline(x.type, x.type, gamma.type, y.type, reduce_workgroup_size(ctx_.caps(), dim)),
                .bindings = b,
                .push_constants = &args,
                .groups = {std::min(rows, ctx_.caps().max_workgroup_count[0]), 1, 1},
                .label = "layer_norm.fwd"});
}

void LayerNorm::backward(vk::Recorder& rec, const TensorRef& x, const TensorRef& dy, const TensorRef& gamma,
                         const std::optional<TensorRef>& dx, bool accumulate, const vk::BufferRange& dgamma,
                         const vk::BufferRange& dbeta, const vk::BufferRange& stats, uint32_t rows, uint32_t dim,
                         float eps) const {
  check_shape("backward", rows, dim, eps);
  const uint64_t n = uint64_t(rows) * dim;
  require_elements("layer norm backward", "x", x, n);
  require_elements("layer norm backward", "dy", dy, n);
  require_elements("layer norm backward", "gamma", gamma, dim);
  require_elements("layer norm backward", "dgamma", {dgamma, ElemType::F32}, dim);
  require_elements("layer norm backward", "dbeta", {dbeta, ElemType::F32}, dim);
  if (stats.size < stats_bytes(rows))
    throw Error("layer norm backward: the statistics scratch has " + std::to_string(stats.size) + " bytes for " +
                    std::to_string(rows) + " rows",
                "bind LayerNorm::stats_bytes(rows)");
  if (dx) {
    require_elements("layer norm backward", "dx", *dx, n);
    check_disjoint("backward", *dx, x, "x");
    check_disjoint("backward", *dx, dy, "dy");
  }
  if (rows == 0) return;
  // Without dx the row pass only keeps the statistics, which stand in for dx; bindings a mode
  // does not write name memory it writes (validation takes the shader's writable ones as written).
  const TensorRef out = dx ? *dx : TensorRef{stats, ElemType::F32};
  const vk::Access out_access = vk::Access::ReadWrite;
  LayerNormArgs args{kModeBackwardDx, rows, dim, eps, (accumulate ? kAccumulate : 0u) | (dx ? 0u : kNoDx)};
  const vk::Binding rows_bindings[] = {{x.range, vk::Access::Read},     {dy.range, vk::Access::Read},
                                       {out.range, out_access},         {gamma.range, vk::Access::Read},
                                       {gamma.range, vk::Access::Read}, {stats, vk::Access::ReadWrite},
                                       {stats, vk::Access::ReadWrite},  {stats, vk::Access::ReadWrite}};
  rec.dispatch({.pipeline = &pipeline(x.type, dy.type, gamma.type, out.type, reduce_workgroup_size(ctx_.caps(), dim)),
                .bindings = rows_bindings,
                .push_constants = &args,
                .groups = {std::min(rows, ctx_.caps().max_workgroup_count[0]), 1, 1},
                .label = "layer_norm.bwd_dx"});
  args.mode = kModeBackwardParams;
  const vk::Binding param_bindings[] = {{x.range, vk::Access::Read},     {dy.range, vk::Access::Read},
                                        {dgamma, vk::Access::ReadWrite}, {gamma.range, vk::Access::Read},
                                        {gamma.range, vk::Access::Read}, {stats, vk::Access::Read},
                                        {dgamma, vk::Access::ReadWrite}, {dbeta, vk::Access::ReadWrite}};
  rec.dispatch({.pipeline = &pipeline(x.type, dy.type, gamma.type, ElemType::F32, 256),
                .bindings = param_bindings,
                .push_constants = &args,
                .groups = {(dim + kParamColumns - 1) / kParamColumns, 1, 1},
                .label = "layer_norm.bwd_params"});
}

}  // namespace vkgrad::kernels
