// vkgrad::kernels::Attention — fused multi-head attention, flash-style (shaders/attention.comp,
// and shaders/attention_coopmat.comp on cooperative matrices):
// softmax(scale·q·kᵀ, causal or not)·v per head straight from a packed qkv [batch, T, 3·D]
// (GPT-2's c_attn output, D = heads·head_dim) into y [batch, T, D], with an online fp32
// softmax, so memory grows with T, never T². The forward keeps each row's log-sum-exp; the
// backward recomputes the probabilities from it and writes dqkv without atomics (a query row or
// a key row per invocation, or per tile): deterministic. One pipeline per (variant, element
// type, head_dim, tile), from the Context's registry on first use; recording is const but fills
// that cache: one thread at a time.
#pragma once

#include "vkgrad/kernels/kernel_pipelines.hpp"
#include "vkgrad/kernels/tensor_ref.hpp"
#include "vkgrad/vk/recorder.hpp"

#include <cstdint>
#include <optional>
#include <string_view>

namespace vkgrad::vk {
class Context;
struct Caps;
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

// scalar: an invocation per row, fp32 throughout, any element type. coopmat: BLOCK-row tiles
// whose products run on cooperative matrices (fp16 activations; P and dS rounded to fp16 for
// their products).
enum class AttentionVariant { Scalar, Coopmat };
std::string_view attention_variant_name(AttentionVariant v);  // "scalar", "coopmat"

struct AttentionChoice {
  AttentionVariant variant = AttentionVariant::Scalar;
  uint32_t block = 0;  // coopmat: rows per tile
};
// Shared memory the coopmat variant's tiles take (shaders/attention_coopmat.comp).
uint64_t attention_coopmat_shared_bytes(uint32_t block, uint32_t head_dim);
// Coopmat where the activations are fp16, select_coopmat() finds a tile whose N and K divide
// head_dim, and BLOCK-row tiles (a multiple of its M, N and K, the largest up to 64 that the
// shared memory holds) fit — on a device that is not a CPU, whose emulated cooperative matrices
// measured slower than the scalar kernel; scalar otherwise. `forced` asks for a variant and
// throws Error saying why it cannot run.
AttentionChoice select_attention(const vk::Caps& caps, ElemType type, uint32_t head_dim,
                                 std::optional<AttentionVariant> forced = std::nullopt);

class Attention {
public:
  explicit Attention(vk::Context& ctx);
  // y = attention(qkv) and, per (sample, head, query), lse = log Σ_j exp(scale·q·k_j) (fp32,
  // row_stats_bytes). qkv, y: one element type.
  void forward(vk::Recorder& rec, const AttentionShape& shape, const TensorRef& qkv, const TensorRef& y,
               const vk::BufferRange& lse, std::optional<AttentionVariant> forced = std::nullopt) const;
  // dqkv (+)= ∂L/∂qkv (accumulate) from dy, the forward's y and lse; `delta` is fp32 scratch of
  // row_stats_bytes. dqkv may not overlap the inputs.
  void backward(vk::Recorder& rec, const AttentionShape& shape, const TensorRef& qkv, const TensorRef& y,
                const TensorRef& dy, const vk::BufferRange& lse, const TensorRef& dqkv, bool accumulate,
                const vk::BufferRange& delta, std::optional<AttentionVariant> forced = std::nullopt) const;
  static uint64_t row_stats_bytes(const AttentionShape& shape) { return 4 * shape.rows(); }

private:
  void dispatch(vk::Recorder& rec, const AttentionShape& shape, uint32_t mode, uint32_t flags, ElemType type,
                std::optional<AttentionVariant> forced, std::span<const vk::Binding> bindings,
                const char* label) const;

  vk::Context& ctx_;
  KernelPipelines scalar_, coopmat_;
};

}  // namespace vkgrad::kernels
