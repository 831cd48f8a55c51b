#include "vkgrad/kernels/hash_grid.hpp"

#include "vkgrad/error.hpp"
#include "vkgrad/kernels/fixed_point.hpp"
#include "vkgrad/vk/context.hpp"

#include <algorithm>
#include <cmath>
#include <string>

namespace vkgrad::kernels {
namespace {

constexpr uint32_t kModeForward = 0, kModeScatter = 1, kModeGather = 2;

uint32_t groups_for(uint64_t items) { return uint32_t(std::clamp<uint64_t>((items + 255) / 256, 1, 4096)); }

void check_shape(const HashGridShape& s) {
  if (s.dims < 1 || s.dims > 3 || s.levels == 0 || s.levels > 64 || s.features == 0 || s.features > 8 ||
      s.log2_table_size == 0 || s.log2_table_size > 24 || s.base_resolution == 0 || !(s.growth >= 1.0f))
    throw Error("hash grid: " + std::to_string(s.dims) + " dims, " + std::to_string(s.levels) + " levels, " +
                    std::to_string(s.features) + " features, table 2^" + std::to_string(s.log2_table_size) +
                    ", base " + std::to_string(s.base_resolution) + ", growth " + std::to_string(s.growth),
                "use 1-3 dims, 1-64 levels, 1-8 features, a table of 2^1..2^24, base ≥ 1 and growth ≥ 1");
}

}  // namespace

std::vector<HashGridLevel> hash_grid_levels(const HashGridShape& s) {
  check_shape(s);
  std::vector<HashGridLevel> out;
  const uint64_t table = uint64_t(1) << s.log2_table_size;
  uint32_t offset = 0;
  for (uint32_t l = 0; l < s.levels; ++l) {
    const double scaled = std::floor(double(s.base_resolution) * std::pow(double(s.growth), double(l)) + 1e-3);
    if (scaled > double(1u << 20))
      throw Error("hash grid: level " + std::to_string(l) + " would have " + std::to_string(scaled) + " cells a side",
                  "lower the growth or the number of levels (at most 2^20 cells a side)");
    const auto n = uint32_t(scaled);
    uint64_t vertices = 1;
    for (uint32_t d = 0; d < s.dims; ++d) vertices *= uint64_t(n) + 1;
    const bool dense = vertices <= table;
    const auto entries = uint32_t(dense ? vertices : table);
    out.push_back({n, offset, entries, dense ? 1u : 0u});
    offset += entries;
  }
  return out;
}

float hash_grid_growth(uint32_t base, uint32_t finest, uint32_t levels) {
  if (base == 0 || finest < base || levels == 0)
    throw Error("hash grid growth from base " + std::to_string(base) + " to " + std::to_string(finest) + " over " +
                    std::to_string(levels) + " levels",
                "use 1 ≤ base ≤ finest and at least one level");
  return levels == 1 ? 1.0f : float(std::exp((std::log(double(finest)) - std::log(double(base))) / (levels - 1)));
}

uint32_t hash_grid_entries(const std::vector<HashGridLevel>& levels) {
  return levels.empty() ? 0 : levels.back().offset + levels.back().entries;
}

uint64_t hash_grid_accum_bytes(const HashGridShape& s) {
  return fixed_point_accum_bytes(uint64_t(hash_grid_entries(hash_grid_levels(s))) * s.features);
}

HashGrid::HashGrid(vk::Context& ctx) : pipelines_(ctx, "hash_grid", 6, sizeof(HashGridArgs)) {}

void HashGrid::forward(vk::Recorder& rec, const HashGridShape& s, uint32_t rows, const vk::BufferRange& x,
                       const vk::BufferRange& levels, const TensorRef& table, const TensorRef& y) const {
  const auto info = hash_grid_levels(s);
  const uint64_t entries = hash_grid_entries(info), out = uint64_t(rows) * s.levels * s.features;
  if (x.size < 4ull * rows * s.dims || levels.size < 16ull * s.levels ||
      table.range.size < tensor_bytes(table.type, entries * s.features) || y.range.size < tensor_bytes(y.type, out))
    throw Error("hash grid forward: a range is too small for " + std::to_string(rows) + " rows and " +
                    std::to_string(entries) + " table entries",
                "bind x (fp32), the levels, the whole table and y");
  const HashGridArgs args{kModeForward, rows, s.dims, s.levels, s.features, uint32_t(entries)};
  // Bindings the shader may write (3-5) are declared written; the unused ones name y again.
  const vk::Binding b[] = {{x, vk::Access::Read},           {levels, vk::Access::Read},
                           {table.range, vk::Access::Read}, {y.range, vk::Access::ReadWrite},
                           {y.range, vk::Access::ReadWrite}, {y.range, vk::Access::ReadWrite}};
  rec.dispatch({.pipeline = &pipeline(table.type, y.type), .bindings = b, .push_constants = &args,
                .groups = {groups_for(uint64_t(rows) * s.levels), 1, 1}, .label = "hash_grid.forward"});
}

void HashGrid::backward(vk::Recorder& rec, const HashGridShape& s, uint32_t rows, const vk::BufferRange& x,
                        const vk::BufferRange& levels, const TensorRef& dy, const vk::BufferRange& accum,
                        const vk::BufferRange& grads) const {
  const auto info = hash_grid_levels(s);
  const uint64_t entries = hash_grid_entries(info), elements = entries * s.features;
  if (x.size < 4ull * rows * s.dims || levels.size < 16ull * s.levels ||
      dy.range.size < tensor_bytes(dy.type, uint64_t(rows) * s.levels * s.features) ||
      accum.size < hash_grid_accum_bytes(s) ||
      grads.size < 4 * elements)
    throw Error("hash grid backward: a range is too small for " + std::to_string(rows) + " rows and " +
                    std::to_string(entries) + " table entries",
                "bind x, the levels, dy, an accumulator of hash_grid_accum_bytes() and the fp32 gradients");
  rec.fill(accum.slice(8 * elements, 4), 0);
  HashGridArgs args{kModeScatter, rows, s.dims, s.levels, s.features, uint32_t(entries)};
  // The table binding is unused here (x stands in); the writable ones (3-5) are declared written.
  const vk::Binding scatter[] = {{x, vk::Access::Read},           {levels, vk::Access::Read},
                                 {x, vk::Access::Read},           {dy.range, vk::Access::ReadWrite},
                                 {accum, vk::Access::ReadWrite}, {grads, vk::Access::ReadWrite}};
  rec.dispatch({.pipeline = &pipeline(ElemType::F32, dy.type), .bindings = scatter, .push_constants = &args,
                .groups = {groups_for(uint64_t(rows) * s.levels), 1, 1}, .label = "hash_grid.scatter"});
  args.mode = kModeGather;
  const vk::Binding gather[] = {{x, vk::Access::Read},           {levels, vk::Access::Read},
                                {x, vk::Access::Read},           {dy.range, vk::Access::ReadWrite},
                                {accum, vk::Access::ReadWrite}, {grads, vk::Access::ReadWrite}};
  rec.dispatch({.pipeline = &pipeline(ElemType::F32, dy.type), .bindings = gather, .push_constants = &args,
                .groups = {groups_for(elements), 1, 1}, .label = "hash_grid.gather"});
}

}  // namespace vkgrad::kernels
