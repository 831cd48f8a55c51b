#include "vkgrad/kernels/variant.hpp"

#include <algorithm>
#include <bit>

namespace vkgrad::kernels {

uint32_t reduce_workgroup_size(const vk::Caps& caps, uint32_t length) {
  const uint32_t cap = std::bit_floor(std::min({256u, caps.max_workgroup_size[0], caps.max_workgroup_invocations}));
  const uint32_t floor = std::bit_ceil(std::max(caps.subgroup_size, 1u));
  // A CPU driver runs a workgroup's subgroups one after another and every barrier switches
  // between all of them: one subgroup, looping over the row, is the fast shape there.
  if (caps.type == VK_PHYSICAL_DEVICE_TYPE_CPU) return std::min(cap, floor);
  return std::min(cap, std::max(floor, std::bit_ceil(std::max(length, 1u))));
}

namespace {

uint32_t pinned_subgroup_size(const vk::Caps& caps) {
  const bool control = caps.enabled(vk::Feature::SubgroupSizeControl) && caps.enabled(vk::Feature::FullSubgroups);
  return control && caps.min_subgroup_size ? caps.min_subgroup_size : caps.subgroup_size;
}

}  // namespace

std::optional<Coopmat2Choice> select_coopmat2(const vk::Caps& caps) {
  if (!caps.enabled(vk::Feature::Coopmat2) || !select_coopmat(caps)) return std::nullopt;
  std::optional<Coopmat2Choice> best;
  for (const vk::FlexibleCoopmatShape& s : caps.coopmat2_shapes) {
    if (s.scope != VK_SCOPE_SUBGROUP_KHR || s.a != VK_COMPONENT_TYPE_FLOAT16_KHR ||
        s.b != VK_COMPONENT_TYPE_FLOAT16_KHR || s.c != VK_COMPONENT_TYPE_FLOAT32_KHR ||
        s.result != VK_COMPONENT_TYPE_FLOAT32_KHR || s.m_granularity == 0 || s.n_granularity == 0 ||
        s.k_granularity == 0)
      continue;
    const uint64_t g = uint64_t{s.m_granularity} * s.n_granularity * s.k_granularity;
    if (!best || g < uint64_t{best->shape.m_granularity} * best->shape.n_granularity * best->shape.k_granularity)
      best = Coopmat2Choice{s, pinned_subgroup_size(caps)};
  }
  return best;
}

std::optional<CoopmatChoice> select_coopmat(const vk::Caps& caps) {
  if (!caps.enabled(vk::Feature::Coopmat)) return std::nullopt;
  std::optional<CoopmatChoice> best;
  for (const vk::CoopmatShape& s : caps.coopmat_shapes) {
    if (s.scope != VK_SCOPE_SUBGROUP_KHR || s.a != VK_COMPONENT_TYPE_FLOAT16_KHR ||
        s.b != VK_COMPONENT_TYPE_FLOAT16_KHR || s.c != VK_COMPONENT_TYPE_FLOAT32_KHR ||
        s.result != VK_COMPONENT_TYPE_FLOAT32_KHR || s.saturating)
      continue;
    const uint64_t work = uint64_t{s.m} * s.n * s.k;
    const bool better = !best || work > uint64_t{best->shape.m} * best->shape.n * best->shape.k ||
                        (work == uint64_t{best->shape.m} * best->shape.n * best->shape.k && s.k < best->shape.k);
    if (better) best = CoopmatChoice{s, 0};
  }
  if (best) best->subgroup_size = pinned_subgroup_size(caps);
  return best;
}

}  // namespace vkgrad::kernels
