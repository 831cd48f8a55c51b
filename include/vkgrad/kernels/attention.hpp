// vkgrad::kernels::Attention — fused multi-head attention, flash-style (shaders/attention.comp):
// softmax(scale·q·kᵀ, causal or not)·v per head straight from a packed qkv [batch, T, 3·D]
// (GPT-2's c_attn output, D = heads·head_dim) into y [batch, T, D], with an online fp32
// softmax, so memory grows with T, never T². The forward keeps each row's log-sum-exp; the
// backward recomputes the probabilities from it and writes dqkv without atomics (a query row or
// a key row per invocation): deterministic. One pipeline per (element type, head_dim,
// workgroup), from the Context's registry on first use; recording is const but fills that
// cache: one thread at a time.
#pragma once

#include "vkgrad/kernels/kernel_pipelines.hpp"
#include "vkgrad/kernels/tensor_ref.hpp"
#include "vkgrad/vk/recorder.hpp"

#include <cstdint>

namespace vkgrad::vk {
class Context;
}

namespace vkgrad::kernels {

// Mirrors the push constants of shaders/attention.comp.
struct AttentionArgs {
  uint32_t mode;
  uint32_t tokens, heads;
  float scale;
  uint32_t flags;
};

struct AttentionShape {
  uint32_t batch = 1, tokens = 1, heads = 1, head_dim = 2;  // head_dim even, at most kMaxHeadDim
  bool causal = true;  // query i sees keys j ≤ i
  float scale = 1.0f;  // usually 1/√head_dim
  static constexpr uint32_t kMaxHeadDim = 256;
  uint64_t rows() const { return uint64_t(batch) * heads * tokens; }  // lse and delta entries
};

class Attention {
public:
  explicit Attention(vk::Context& ctx);
  // y = attention(qkv) and, per (sample, head, query), lse = log Σ_j exp(scale·q·k_j) (fp32,
  // row_stats_bytes). qkv, y: one element type.
  void forward(vk::Recorder& rec, const AttentionShape& shape, const TensorRef& qkv, const TensorRef& y,
               const vk::BufferRange& lse) const;
  // dqkv (+)= ∂L/∂qkv (accumulate) from dy, the forward's y and lse; `delta` is fp32 scratch of
  // row_stats_bytes. dqkv may not overlap the inputs.
  void backward(vk::Recorder& rec, const AttentionShape& shape, const TensorRef& qkv, const TensorRef& y,
                const TensorRef& dy, const vk::BufferRange& lse, const TensorRef& dqkv, bool accumulate,
                const vk::BufferRange& delta) const;
  static uint64_t row_stats_bytes(const AttentionShape& shape) { return 4 * shape.rows(); }

private:
  void dispatch(vk::Recorder& rec, const AttentionShape& shape, uint32_t mode, uint32_t flags, ElemType type,
                std::span<const vk::Binding> bindings, const char* label) const;

  vk::Context& ctx_;
  KernelPipelines pipelines_;
};

}  // namespace vkgrad::kernels
