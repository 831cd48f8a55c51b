// Memory planning for a static graph: each tensor's size and live interval in, one offset per
// tensor into a single arena out, so that tensors whose lifetimes never overlap share memory.
//
// Pure functions over plain values: no Vulkan, no state, nothing retained. Thread-safe.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace vkgrad::graph {

// What a tensor is for; the planner only sums these, for budgets and reports.
enum class MemoryCategory : uint32_t { Parameters, Gradients, OptimizerState, Activations, Workspace, Count };
// "parameters", "gradients", "optimizer_state", "activations", "workspace"
std::string_view memory_category_name(MemoryCategory c);

// One tensor to place. Positions are indices into the pass schedule (forward, backward,
// loss-scale, update ops in recording order).
struct MemoryRequest {
  std::string name;                      // shown in errors; optional but worth giving
  uint64_t bytes = 0;                    // must be > 0
  uint32_t first_use = 0, last_use = 0;  // inclusive positions where the tensor is live
  uint64_t alignment = 256;              // offset alignment in bytes; a power of two
  MemoryCategory category = MemoryCategory::Activations;
  // false: memory of its own, never shared, whatever the lifetimes say (parameters,
  // optimizer state, anything the host reads between steps).
  bool shareable = true;
};

struct MemoryPlan {
  std::vector<uint64_t> offsets;  // one per request, in request order, into one arena
  uint64_t arena_bytes = 0;       // planned peak: the arena size (max of offset + bytes)
  std::array<uint64_t, size_t(MemoryCategory::Count)> requested_by_category{};  // request bytes summed
  // The arena without any sharing: the sum of each request's size rounded up to its alignment
  // (laid out by decreasing alignment, that needs no further padding). arena_bytes never exceeds it.
  uint64_t unshared_bytes = 0;
};

// Places every request so that two requests whose live intervals [first_use, last_use] overlap,
// or either of which is unshareable, never overlap in memory; the others may share.
//
// Greedy by size, as TensorFlow Lite's greedy-by-size planner: largest first, each at the lowest
// offset aligned to its alignment that collides with no placed request it conflicts with. Ties
// are broken by request order, so the same requests always give the same plan. Where mixed
// alignments would make that layout larger than no sharing at all, the end-to-end layout is
// returned instead. O(n²) in the number of requests.
//
// Throws Error naming the request when one has 0 bytes, last_use < first_use, an alignment that
// is not a power of two or an unknown category, or when offsets would overflow 64 bits.
MemoryPlan plan_memory(std::span<const MemoryRequest> requests);

// Throws Error when plan.arena_bytes > budget_bytes, naming the planned bytes, the budget, the
// largest categories and what to do about them. `what` names the plan in the message.
void check_budget(const MemoryPlan& plan, uint64_t budget_bytes, std::string_view what = "training graph");

// One human-readable line, e.g. "arena 12.3 MiB (activations 8.0 MiB, parameters 4.0 MiB;
// without sharing 20.1 MiB)". Categories with no requests are left out; largest first.
std::string describe(const MemoryPlan& plan);

}  // namespace vkgrad::graph
