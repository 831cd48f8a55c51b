#include "vkgrad/kernels/attention.hpp"

#include "vkgrad/error.hpp"
#include "vkgrad/kernels/variant.hpp"
#include "vkgrad/vk/context.hpp"

#include <algorithm>
#include <numeric>
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

// The subgroup size the coopmat variant runs at (select_coopmat's), and the size its pipelines
// pin (0 where the device cannot pin one).
uint32_t coopmat_subgroup(const vk::Caps& caps) {
  const auto cm = select_coopmat(caps);
  return cm ? cm->subgroup_size : 0;
}

uint32_t coopmat_pinned_subgroup(const vk::Caps& caps) {
  const bool pin = caps.enabled(vk::Feature::SubgroupSizeControl) && caps.enabled(vk::Feature::FullSubgroups);
  return pin ? coopmat_subgroup(caps) : 0;
}

}  // namespace

std::string_view attention_variant_name(AttentionVariant v) {
  return v == AttentionVariant::Coopmat ? "coopmat" : "scalar";
}

uint64_t attention_coopmat_shared_bytes(uint32_t block, uint32_t head_dim) {
  const uint64_t b = block, hp = head_dim + 8, pp = block + 8, sp = block + 4, op = head_dim + 4;
  return 4 * b * hp * 2 + 2 * b * sp * 4 + 2 * b * pp * 2 + 2 * b * op * 4 + 2 * b * 4;
}

AttentionChoice select_attention(const vk::Caps& caps, ElemType type, uint32_t head_dim,
                                 std::optional<AttentionVariant> forced) {
  const auto cm = select_coopmat(caps);
  std::string why;  // why coopmat cannot run; empty: it can
  uint32_t block = 0;
  if (type != ElemType::F16) {
    why = "it takes fp16 activations";
  } else if (!cm) {
    why = "the device has no enabled fp16·fp16→fp32 cooperative matrix";
  } else if (head_dim % cm->shape.n != 0 || head_dim % cm->shape.k != 0) {
    why = "the head dim " + std::to_string(head_dim) + " is not a multiple of the " + std::to_string(cm->shape.n) +
          "×" + std::to_string(cm->shape.k) + " tile's N and K";
  } else {
    const uint32_t unit = std::lcm(cm->shape.m, std::lcm(cm->shape.n, cm->shape.k));
    for (uint32_t b = unit; b <= std::max(64u, unit); b += unit)
      if (attention_coopmat_shared_bytes(b, head_dim) <= caps.max_shared_memory) block = b;
    if (block == 0)
      why = "its tiles need " + std::to_string(attention_coopmat_shared_bytes(unit, head_dim)) +
            " bytes of shared memory, the device has " + std::to_string(caps.max_shared_memory);
  }
  if (forced == AttentionVariant::Coopmat && !why.empty())
    throw Error("the coopmat attention was requested but " + why, "use the scalar variant");
  if (forced) return {*forced, *forced == AttentionVariant::Coopmat ? block : 0};
  if (why.empty() && caps.type != VK_PHYSICAL_DEVICE_TYPE_CPU) return {AttentionVariant::Coopmat, block};
  return {AttentionVariant::Scalar, 0};
}

Attention::Attention(vk::Context& ctx)
    : ctx_(ctx),
      scalar_(ctx, "attention", 6, sizeof(AttentionArgs)),
      coopmat_(ctx, "attention_coopmat", 6, sizeof(AttentionArgs), coopmat_pinned_subgroup(ctx.caps())) {}

void Attention::dispatch(vk::Recorder& rec, const AttentionShape& s, uint32_t mode, uint32_t flags, ElemType type,
                         std::optional<AttentionVariant> forced, std::span<const vk::Binding> bindings,
                         const char* label) const {
  const auto& caps = ctx_.caps();
  const AttentionChoice choice = select_attention(caps, type, s.head_dim, forced);
  const AttentionArgs args{mode, s.tokens, s.heads, s.scale, flags | (s.causal ? kCausal : 0u)};
  if (choice.variant == AttentionVariant::Coopmat) {
    // One subgroup per workgroup owns a tile of `block` rows.
    const auto cm = select_coopmat(caps)->shape;
    rec.dispatch({.pipeline = &coopmat_.get({{0, coopmat_subgroup(caps)},
                                             {1, s.head_dim},
                                             {2, cm.m},
                                             {3, cm.n},
                                             {4, cm.k},
                                             {5, choice.block},
                                             {16, uint32_t(type)}}),
                  .bindings = bindings,
                  .push_constants = &args,
                  .groups = {(s.tokens + choice.block - 1) / choice.block, s.heads, s.batch},
                  .label = label});
    return;
  }
  // A tile of queries (or keys) per workgroup, one subgroup wide: the rows it meets are loaded
  // once for all of its lanes.
  const uint32_t tile = std::max(caps.subgroup_size, 1u);
  rec.dispatch({.pipeline = &scalar_.get({{0, tile}, {1, s.head_dim}, {16, uint32_t(type)}}),
                .bindings = bindings,
                .push_constants = &args,
                .groups = {(s.tokens + tile - 1) / tile, s.heads, s.batch},
                .label = label});
}

void Attention::forward(vk::Recorder& rec, const AttentionShape& s, const TensorRef& qkv, const TensorRef& y,
                        const vk::BufferRange& lse, std::optional<AttentionVariant> forced) const {
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
  dispatch(rec, s, kModeForward, 0, y.type, forced, b, "attention.fwd");
}

void Attention::backward(vk::Recorder& rec, const AttentionShape& s, const TensorRef& qkv, const TensorRef& y,
                         const TensorRef& dy, const vk::BufferRange& lse, const TensorRef& dqkv, bool accumulate,
                         const vk::BufferRange& delta, std::optional<AttentionVariant> forced) const {
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
  dispatch(rec, s, kModeBackwardQ, flags, y.type, forced, q, "attention.bwd_q");
  const vk::Binding kv[] = {{qkv.range, vk::Access::Read}, {y.range, vk::Access::Read}, {dy.range, vk::Access::Read},
                            {dqkv.range, out},             {lse, vk::Access::Read},     {delta, vk::Access::Read}};
  dispatch(rec, s, kModeBackwardKv, flags, y.type, forced, kv, "attention.bwd_kv");
}

}  // namespace vkgrad::kernels
