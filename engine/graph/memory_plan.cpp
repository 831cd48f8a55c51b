#include "vkgrad/graph/memory_plan.hpp"

#include "vkgrad/error.hpp"

#include <algorithm>
#include <cstdio>
#include <limits>
#include <numeric>

namespace vkgrad::graph {
namespace {

constexpr size_t kCategories = size_t(MemoryCategory::Count);
constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();

std::string label(size_t index, const MemoryRequest& r) {
  return "memory request " + std::to_string(index) + " ('" + r.name + "')";
}

[[noreturn]] void overflow(size_t index, const MemoryRequest& r) {
  throw Error("memory plan: offsets overflow 64 bits placing " + label(index, r) + " of " +
                  std::to_string(r.bytes) + " bytes",
              "request sizes are in bytes: check the size computed for this tensor");
}

uint64_t add(uint64_t a, uint64_t b, size_t index, const MemoryRequest& r) {
  if (a > kMax - b) overflow(index, r);
  return a + b;
}

// `alignment` is a power of two (validated first).
uint64_t align_up(uint64_t v, uint64_t alignment, size_t index, const MemoryRequest& r) {
  return add(v, alignment - 1, index, r) & ~(alignment - 1);
}

void validate(size_t index, const MemoryRequest& r) {
  if (r.bytes == 0)
    throw Error(label(index, r) + " has 0 bytes",
                "every planned tensor needs at least one byte: leave empty tensors out of the plan");
  if (r.last_use < r.first_use)
    throw Error(label(index, r) + " ends (last_use " + std::to_string(r.last_use) + ") before it starts (first_use " +
                    std::to_string(r.first_use) + ")",
                "first_use and last_use are inclusive schedule positions: give last_use >= first_use");
  if (r.alignment == 0 || (r.alignment & (r.alignment - 1)) != 0)
    throw Error(label(index, r) + " has alignment " + std::to_string(r.alignment) + ", not a power of two",
                "use the device's minStorageBufferOffsetAlignment (a power of two), or the default 256");
  if (uint32_t(r.category) >= uint32_t(MemoryCategory::Count))
    throw Error(label(index, r) + " has category " + std::to_string(uint32_t(r.category)) +
                    ", not a MemoryCategory",
                "pick one of parameters, gradients, optimizer_state, activations, workspace");
}

// Unshareable requests conflict with everything: they must keep their memory for the whole run.
bool conflict(const MemoryRequest& a, const MemoryRequest& b) {
  return !a.shareable || !b.shareable || (a.first_use <= b.last_use && b.first_use <= a.last_use);
}

struct Block {
  uint64_t offset = 0, end = 0;  // [offset, end)
  size_t index = 0;
};

// TensorFlow Lite's greedy-by-size: largest first, lowest aligned gap among conflicting blocks.
std::vector<uint64_t> greedy_by_size(std::span<const MemoryRequest> requests) {
  std::vector<size_t> order(requests.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t x, size_t y) { return requests[x].bytes > requests[y].bytes; });

  std::vector<uint64_t> offsets(requests.size());
  std::vector<Block> placed;  // kept sorted by offset, so the gap search is one pass
  placed.reserve(requests.size());
  for (size_t i : order) {
    const MemoryRequest& r = requests[i];
    uint64_t offset = 0;
    for (const Block& b : placed) {
      if (b.end <= offset || !conflict(r, requests[b.index])) continue;
      if (b.offset >= r.bytes && offset <= b.offset - r.bytes) break;  // fits before b; later blocks start later
      offset = align_up(b.end, r.alignment, i, r);
    }
    const Block block{offset, add(offset, r.bytes, i, r), i};
    placed.insert(std::upper_bound(placed.begin(), placed.end(), block,
                                   [](const Block& x, const Block& y) { return x.offset < y.offset; }),
                  block);
    offsets[i] = offset;
  }
  return offsets;
}

// Every request after the previous one, by decreasing alignment so that no padding is needed.
std::vector<uint64_t> end_to_end(std::span<const MemoryRequest> requests) {
  std::vector<size_t> order(requests.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t x, size_t y) { return requests[x].alignment > requests[y].alignment; });
  std::vector<uint64_t> offsets(requests.size());
  uint64_t next = 0;
  for (size_t i : order) {
    offsets[i] = next;
    next = add(next, align_up(requests[i].bytes, requests[i].alignment, i, requests[i]), i, requests[i]);
  }
  return offsets;
}

uint64_t arena_of(std::span<const MemoryRequest> requests, const std::vector<uint64_t>& offsets) {
  uint64_t arena = 0;
  for (size_t i = 0; i < requests.size(); ++i) arena = std::max(arena, offsets[i] + requests[i].bytes);
  return arena;
}

std::string format_bytes(uint64_t bytes) {
  if (bytes < 1024) return std::to_string(bytes) + " B";
  static constexpr const char* kUnits[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  double v = double(bytes) / 1024;
  size_t unit = 0;
  while (v >= 1024 && unit + 1 < std::size(kUnits)) {
    v /= 1024;
    ++unit;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f %s", v, kUnits[unit]);
  return buf;
}

// Categories with requested bytes, largest first (ties in enum order).
std::vector<MemoryCategory> ranked_categories(const MemoryPlan& plan) {
  std::vector<MemoryCategory> ranked;
  for (size_t c = 0; c < kCategories; ++c)
    if (plan.requested_by_category[c] > 0) ranked.push_back(MemoryCategory(c));
  std::stable_sort(ranked.begin(), ranked.end(), [&](MemoryCategory x, MemoryCategory y) {
    return plan.requested_by_category[size_t(x)] > plan.requested_by_category[size_t(y)];
  });
  return ranked;
}

std::string category_bytes(const MemoryPlan& plan, MemoryCategory c) {
  return std::string(memory_category_name(c)) + " " + format_bytes(plan.requested_by_category[size_t(c)]);
}

// The first thing to try is what shrinks the largest category; the rest follow.
const char* advice(MemoryCategory largest) {
  switch (largest) {
    case MemoryCategory::Activations:
    case MemoryCategory::Workspace:
      return "use a smaller batch, mixed precision (fp16 activations, Precision::Mixed), or fewer or narrower layers";
    case MemoryCategory::OptimizerState:
      return "use fewer or narrower layers or an optimizer that keeps less state (SGD without momentum keeps none); "
             "a smaller batch or mixed precision (Precision::Mixed) frees activations";
    case MemoryCategory::Parameters:
    case MemoryCategory::Gradients:
    case MemoryCategory::Count:
      break;
  }
  return "use fewer or narrower layers; a smaller batch or mixed precision (Precision::Mixed) frees activations";
}

}  // namespace

std::string_view memory_category_name(MemoryCategory c) {
  switch (c) {
    case MemoryCategory::Parameters: return "parameters";
    case MemoryCategory::Gradients: return "gradients";
    case MemoryCategory::OptimizerState: return "optimizer_state";
    case MemoryCategory::Activations: return "activations";
    case MemoryCategory::Workspace: return "workspace";
    case MemoryCategory::Count: break;
  }
  return "?";
}

MemoryPlan plan_memory(std::span<const MemoryRequest> requests) {
  MemoryPlan plan;
  for (size_t i = 0; i < requests.size(); ++i) {
    const MemoryRequest& r = requests[i];
    validate(i, r);
    uint64_t& category = plan.requested_by_category[size_t(r.category)];
    category = add(category, r.bytes, i, r);
    plan.unshared_bytes = add(plan.unshared_bytes, align_up(r.bytes, r.alignment, i, r), i, r);
  }
  plan.offsets = greedy_by_size(requests);
  plan.arena_bytes = arena_of(requests, plan.offsets);
  // Greedy by size can pad a small alignment's block up to a large one's; never worse than no sharing.
  std::vector<uint64_t> unshared = end_to_end(requests);
  if (const uint64_t arena = arena_of(requests, unshared); arena < plan.arena_bytes) {
    plan.offsets = std::move(unshared);
    plan.arena_bytes = arena;
  }
  return plan;
}

void check_budget(const MemoryPlan& plan, uint64_t budget_bytes, std::string_view what) {
  if (plan.arena_bytes <= budget_bytes) return;
  const std::vector<MemoryCategory> ranked = ranked_categories(plan);
  std::string hint;
  if (!ranked.empty()) {
    hint = "largest: " + category_bytes(plan, ranked[0]);
    if (ranked.size() > 1) hint += ", " + category_bytes(plan, ranked[1]);
    hint += "; ";
  }
  hint += advice(ranked.empty() ? MemoryCategory::Activations : ranked[0]);
  throw Error(std::string(what) + " needs " + format_bytes(plan.arena_bytes) + " (" +
                  std::to_string(plan.arena_bytes) + " bytes) of device memory, over the budget of " +
                  format_bytes(budget_bytes) + " (" + std::to_string(budget_bytes) + " bytes)",
              hint);
}

std::string describe(const MemoryPlan& plan) {
  std::string line = "arena " + format_bytes(plan.arena_bytes) + " (";
  const std::vector<MemoryCategory> ranked = ranked_categories(plan);
  for (size_t i = 0; i < ranked.size(); ++i) line += (i ? ", " : "") + category_bytes(plan, ranked[i]);
  line += ranked.empty() ? "" : "; ";
  return line + "without sharing " + format_bytes(plan.unshared_bytes) + ")";
}

}  // namespace vkgrad::graph
