// vkgrad::kernels::HashGrid — the multi-resolution hash encoding of Instant-NGP
// (shaders/hash_grid.comp): per level, multilinear interpolation of a learned feature table at
// the level's grid vertices (dense where they fit the level's table, hashed otherwise). The
// table gradient is accumulated deterministically (64-bit fixed point, integer atomics) and
// converted once. Holds its pipelines (from the Context's registry on first use); recording is
// const but fills that cache: one thread at a time.
#pragma once

#include "vkgrad/kernels/kernel_pipelines.hpp"
#include "vkgrad/kernels/tensor_ref.hpp"
#include "vkgrad/vk/recorder.hpp"

#include <cstdint>
#include <vector>

namespace vkgrad::vk {
class Context;
}

namespace vkgrad::kernels {

struct HashGridShape {
  uint32_t dims = 2;                  // coordinates per sample, in [0, 1] (2 or 3)
  uint32_t levels = 16;
  uint32_t features = 2;              // per level (≤ 8)
  uint32_t log2_table_size = 19;      // entries per level at most
  uint32_t base_resolution = 16;
  // resolution_l = floor(base · growth^l + 10^-3): the 10^-3 lets a growth rounded to float,
  // such as (finest / base)^(1 / (levels − 1)), still reach its intended integer resolutions.
  float growth = 1.5f;
};

// Per level: {resolution, first entry, entries, dense} (shaders/hash_grid.comp's levels buffer).
struct HashGridLevel {
  uint32_t resolution, offset, entries, dense;
};
// Throws Error for a shape out of range (or a level finer than 2^20 cells).
std::vector<HashGridLevel> hash_grid_levels(const HashGridShape& s);
// The growth factor from `base` to `finest` resolution over `levels` levels (Instant-NGP's b).
float hash_grid_growth(uint32_t base, uint32_t finest, uint32_t levels);
uint32_t hash_grid_entries(const std::vector<HashGridLevel>& levels);  // table entries in all
// The backward's accumulator: 8 bytes per table element, then the overflow word.
uint64_t hash_grid_accum_bytes(const HashGridShape& s);

// Mirrors the push constants of shaders/hash_grid.comp.
struct HashGridArgs {
  uint32_t mode, rows, dims, levels, features, entries;
};

class HashGrid {
public:
  explicit HashGrid(vk::Context& ctx);
  // y [rows, levels·features] from fp32 x [rows, dims], the levels buffer and the table
  // [entries, features] (fp32 or fp16).
  void forward(vk::Recorder& rec, const HashGridShape& s, uint32_t rows, const vk::BufferRange& x,
               const vk::BufferRange& levels, const TensorRef& table, const TensorRef& y) const;
  // grads (fp32 [entries·features]) += ∂L/∂table for dy [rows, levels·features]. `accum`
  // (hash_grid_accum_bytes) is zero before the first call and left zero after. A term beyond the
  // fixed point's ±2^31, or a non-finite dy, makes every gradient +inf (an overflow to skip).
  void backward(vk::Recorder& rec, const HashGridShape& s, uint32_t rows, const vk::BufferRange& x,
                const vk::BufferRange& levels, const TensorRef& dy, const vk::BufferRange& accum,
                const vk::BufferRange& grads) const;

private:
  const vk::Pipeline& pipeline(ElemType table, ElemType out) const {
    return pipelines_.get({{16, uint32_t(table)}, {18, uint32_t(out)}});
  }

  KernelPipelines pipelines_;
};

}  // namespace vkgrad::kernels
