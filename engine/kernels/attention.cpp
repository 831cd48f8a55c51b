#include "vkgrad/kernels/attention.hpp"

#include "vkgrad/error.hpp"
#include "vkgrad/vk/context.hpp"

#include <algorithm>
#include <string>

namespace vkgrad::kernels {
namespace {

constexpr uint32_t kModeForward = 0, kModeBackwardQ = 1, kModeBackwardKv = 2;
constexpr uint32_t kCausal = 1, kAccumulate = 2;

std::string describe(const AttentionShape& s) {
  return std::to_string(s.batch) + " samples of " + std::to_string(s.tokens) + " tokens, " +
         std::to_string(s.heads) + " heads of " + std::to_string(s.head_dim);
}

void check_shape(const char* op, const AttentionShape& s, const vk::Caps& caps) {
  if (s.batch == 0 || s.tokens == 0 || s.heads == 0 || s.head_dim == 0 || s.head_dim % 2 != 0 ||
      s.head_dim > AttentionShape::kMaxHeadDim)
    throw Error(std::string("attention ") + op + " over " + describe(s),
                "use at least one sample, token and head, and an even head_dim of at most " +
                    std::to_string(AttentionShape::kMaxHeadDim) + " (or the composed attention)");
  if (uint64_t(s.batch) * s.tokens * 3 * s.heads * s.head_dim >= 0xFFFFFFFFull)
    throw Error(std::string("attention ") + op + " over " + describe(s) + ": 2^32 or more elements",
                "split the batch");
  if (s.heads > caps.max_workgroup_count[1] || s.batch > caps.max_workgroup_count[2])
    throw Error(std::string("attention ") + op + " over " + describe(s) + ": the device dispatches at most " +
                    std::to_string(caps.max_workgroup_count[1]) + " heads and " +
                    std::to_string(caps.max_workgroup_count[2]) + " samples at once",
                "split the batch");
}

void check_stats(const char* op, const char* name, const vk::BufferRange& r, const AttentionShape& s) {
  if (r.size < Attention::row_stats_bytes(s))
    throw Error(std::string("attention ") + op + ": " + name + " has " + std::to_string(r.size) + " bytes for " +
                    describe(s),
                "bind Attention::row_stats_bytes(shape)");
}

}  // namespace

Attention::Attention(vk::Context& ctx) : ctx_(ctx), pipelines_(ctx, "attention", 6, sizeof(AttentionArgs)) {}

void Attention::dispatch(vk::Recorder& rec, const AttentionShape& s, uint32_t mode, uint32_t flags, ElemType type,
                         std::span<const vk::Binding> bindings, const char* label) const {
  // A tile of queries (or keys) per workgroup, one subgroup wide: the rows it meets are loaded
  // once for all of its lanes.
  const uint32_t tile = std::max(ctx_.caps().subgroup_size, 1u);
  const AttentionArgs args{mode, s.tokens, s.heads, s.scale, flags | (s.causal ? kCausal : 0u)};
  rec.dispatch({.pipeline = &pipelines_.get({{0, tile}, {1, s.head_dim}, {16, uint32_t(type)}}),
                .bindings = bindings,
                .push_constants = &args,
                .groups = {(s.tokens + tile - 1) / tile, s.heads, s.batch},
                .label = label});
}

void Attention::forward(vk::Recorder& rec, const AttentionShape& s, const TensorRef& qkv, const TensorRef& y,
                        const vk::BufferRange& lse) const {
  check_shape("forward", s, ctx_.caps());
  const uint64_t rows = uint64_t(s.batch) * s.tokens, d = uint64_t(s.heads) * s.head_dim;
  require_elements("attention forward", "qkv", qkv, rows * 3 * d);
  require_elements("attention forward", "y", y, rows * d);
  check_stats("forward", "lse", lse, s);
  if (qkv.type != y.type) throw Error("attention forward: qkv and y have different element types", "store them alike");
  if (y.range.overlaps(qkv.range) || lse.overlaps(qkv.range) || lse.overlaps(y.range))
    throw Error("attention forward: y, lse and qkv overlap", "give each a range of its own");
  // Bindings this mode does not read name qkv; those it does not write name what it writes.
  const vk::Binding b[] = {{qkv.range, vk::Access::Read}, {qkv.range, vk::Access::Read},
                           {qkv.range, vk::Access::Read}, {y.range, vk::Access::Write},
                           {lse, vk::Access::Write},       {lse, vk::Access::Write}};
  dispatch(rec, s, kModeForward, 0, y.type, b, "attention.fwd");
}

void Attention::backward(vk::Recorder& rec, const AttentionShape& s, const TensorRef& qkv, const TensorRef& y,
                         const TensorRef& dy, const vk::BufferRange& lse, const TensorRef& dqkv, bool accumulate,
                         const vk::BufferRange& delta) const {
  check_shape("backward", s, ctx_.caps());
  const uint64_t rows = uint64_t(s.batch) * s.tokens, d = uint64_t(s.heads) * s.head_dim;
  require_elements("attention backward", "qkv", qkv, rows * 3 * d);
  require_elements("attention backward", "y", y, rows * d);
  require_elements("attention backward", "dy", dy, rows * d);
  require_elements("attention backward", "dqkv", dqkv, rows * 3 * d);
  check_stats("backward", "lse", lse, s);
  check_stats("backward", "delta", delta, s);
  if (qkv.type != y.type || dy.type != y.type || dqkv.type != y.type)
    throw Error("attention backward: qkv, y, dy and dqkv have different element types", "store them alike");
  for (const vk::BufferRange& in : {qkv.range, y.range, dy.range, lse})
    if (dqkv.range.overlaps(in) || delta.overlaps(in))
      throw Error("attention backward: dqkv or delta overlaps an input", "give each a range of its own");
  const vk::Access out = accumulate ? vk::Access::ReadWrite : vk::Access::Write;
  const uint32_t flags = accumulate ? kAccumulate : 0u;
  const vk::Binding q[] = {{qkv.range, vk::Access::Read}, {y.range, vk::Access::Read}, {dy.range, vk::Access::Read},
                           {dqkv.range, out},             {lse, vk::Access::Read},     {delta, vk::Access::Write}};
  dispatch(rec, s, kModeBackwardQ, flags, y.type, q, "attention.bwd_q");
  const vk::Binding kv[] = {{qkv.range, vk::Access::Read}, {y.range, vk::Access::Read}, {dy.range, vk::Access::Read},
                            {dqkv.range, out},             {lse, vk::Access::Read},     {delta, vk::Access::Read}};
  dispatch(rec, s, kModeBackwardKv, flags, y.type, kv, "attention.bwd_kv");
}

}  // namespace vkgrad::kernels
