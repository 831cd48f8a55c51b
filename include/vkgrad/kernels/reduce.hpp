// vkgrad::kernels::ReduceSum — the fp32 sum of n elements of any storage (shaders/reduce.comp).
//
// Two dispatches: per-workgroup partial sums, then one workgroup over the partials. The order
// of additions is fixed, so a result is deterministic. Holds its pipelines only; recording is
// const (one thread at a time).
#pragma once

#include "vkgrad/kernels/variant.hpp"
#include "vkgrad/vk/recorder.hpp"

#include <cstdint>

namespace vkgrad::vk {
class Context;
}

namespace vkgrad::kernels {

// Mirrors shaders/reduce.comp's push constants.
struct ReduceArgs {
  uint32_t n;
};
static_assert(sizeof(ReduceArgs) <= 128);

class ReduceSum {
public:
  ReduceSum(vk::Context& ctx, Storage storage);
  Storage storage() const { return storage_; }
  // Workgroups of the first pass for n elements; `partials` needs this many floats.
  static uint32_t partial_count(uint32_t n);
  // out[0] (fp32) = Σ x[0..n). `partials` is scratch of partial_count(n) floats.
  void record(vk::Recorder& rec, const vk::BufferRange& x, uint32_t n, const vk::BufferRange& partials,
              const vk::BufferRange& out) const;

private:
  Storage storage_;
  const vk::Pipeline* first_;
  const vk::Pipeline* second_;
};

}  // namespace vkgrad::kernels
