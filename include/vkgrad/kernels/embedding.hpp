// vkgrad::kernels::Embedding — token embedding (shaders/embedding.comp): a lookup of table rows by
// int32 ids, and the table gradient summed deterministically (64-bit fixed point on integer
// atomics, kernels/fixed_point.hpp), so repeated tokens give the same bits on every run. An id
// outside [0, vocab) gives NaN outputs and infinite gradients (a skipped step), never an
// out-of-bounds read. Holds its pipelines (from the Context's registry on first use);
// recording is const but fills that cache: one thread at a time.
#pragma once

#include "vkgrad/kernels/kernel_pipelines.hpp"
#include "vkgrad/kernels/tensor_ref.hpp"
#include "vkgrad/vk/recorder.hpp"

#include <cstdint>

namespace vkgrad::vk {
class Context;
}

namespace vkgrad::kernels {

// Mirrors the push constants of shaders/embedding.comp.
struct EmbeddingArgs {
  uint32_t mode;
  uint32_t positions, dim, vocab;
};

class Embedding {
public:
  explicit Embedding(vk::Context& ctx);
  // y [positions, dim] = table [vocab, dim] rows at ids (int32 [positions]).
  void forward(vk::Recorder& rec, const vk::BufferRange& ids, const TensorRef& table, const TensorRef& y,
               uint32_t positions, uint32_t dim, uint32_t vocab) const;
  // grads (fp32 [vocab, dim]) += Σ over positions of dy rows at their ids. `accum` is
  // fixed_point_accum_bytes(vocab·dim), zero before the first call and left zero after.
  void backward(vk::Recorder& rec, const vk::BufferRange& ids, const TensorRef& dy, const vk::BufferRange& accum,
                const vk::BufferRange& grads, uint32_t positions, uint32_t dim, uint32_t vocab) const;

private:
  const vk::Pipeline& pipeline(ElemType table, ElemType out) const {
    return pipelines_.get({{16, uint32_t(table)}, {18, uint32_t(out)}});
  }

  KernelPipelines pipelines_;
};

}  // namespace vkgrad::kernels
