// vkgrad::kernels::Loss — cross-entropy, MSE and L1 losses with PyTorch's 'mean' reduction, their
// mean, and the loss-scaled gradient (shaders/loss.comp), fp32 math over fp32 or fp16 tensors.
//
// The per-step values (loss scale, rows of the batch that hold data) are read from a device
// buffer (LossParams), so a pass recorded once stays valid as the trainer changes them. Rows
// r ≥ min(valid_rows, rows) are padding: never read, loss and gradient 0. One workgroup per
// row with fixed-order reductions: deterministic. Outputs may not overlap inputs. Element types
// are specialization constants (one pipeline per combination used, from the Context's registry
// on first use, then reused without allocating); mode, kind and shape are push constants.
// Recording is const but fills that pipeline cache: one thread at a time.
#pragma once

#include "vkgrad/kernels/kernel_pipelines.hpp"
#include "vkgrad/kernels/tensor_ref.hpp"
#include "vkgrad/vk/recorder.hpp"

#include <cstdint>

namespace vkgrad::vk {
class Context;
}

namespace vkgrad::kernels {

enum class LossKind : uint32_t { CrossEntropy = 0, Mse = 1, L1 = 2 };

// Device-side values the trainer updates every step; the loss kernels read them from a buffer
// (std430, 8 bytes).
struct LossParams {
  float scale;          // the loss scale the gradient is multiplied by (1 without scaling)
  uint32_t valid_rows;  // rows of the batch that hold data; the rest are padding
  // The rows the mean divides by, where not valid_rows (0): under data parallelism the global
  // batch's, so that each rank's loss and gradients are its share of the global mean, with the
  // magnitudes (and FP16 overflows) one process would have.
  uint32_t mean_rows = 0;
};
static_assert(sizeof(LossParams) == 12);

// Mirrors the push constants of shaders/loss.comp.
struct LossArgs {
  uint32_t mode;  // 0 forward, 1 mean, 2 backward
  uint32_t kind;  // LossKind
  uint32_t rows, cols;
  uint32_t positions;  // rows per sample
};
static_assert(sizeof(LossArgs) <= 128);

class Loss {
public:
  explicit Loss(vk::Context& ctx);

  // row_loss[r] (fp32, rows entries), for pred [rows, cols] (rows, cols ≥ 1):
  //   CrossEntropy: −log softmax(pred[r])[label[r]] by log-sum-exp in fp32. target.range holds
  //     rows int32 labels and target.type is ignored. A label outside [0, cols) gives NaN, so
  //     that the trainer's non-finite-loss check sees it.
  //   Mse: Σ_j (p − t)²; L1: Σ_j |p − t|, with target [rows, cols] of target.type.
  // Rows r ≥ params.valid_rows·positions get 0: a sample may own `positions` consecutive rows
  // (the time steps of a sequence), and params.valid_rows counts samples.
  void forward(vk::Recorder& rec, LossKind kind, const TensorRef& pred, const TensorRef& target,
               const vk::BufferRange& params, const vk::BufferRange& row_loss, uint32_t rows, uint32_t cols,
               uint32_t positions = 1) const;
  // loss_out[0] (fp32) = Σ_{r < valid} row_loss[r] / N, with valid = min(params.valid_rows ·
  // positions, rows) and N = valid (CrossEntropy) or valid·cols (Mse, L1): PyTorch's 'mean'. One
  // workgroup, fixed order. valid = 0 gives NaN, the mean of nothing.
  void mean(vk::Recorder& rec, LossKind kind, const vk::BufferRange& row_loss, const vk::BufferRange& params,
            const vk::BufferRange& loss_out, uint32_t rows, uint32_t cols, uint32_t positions = 1) const;
  // dpred = params.scale · ∂(mean loss)/∂pred in dpred's element type (fp16 in mixed
  // precision); padding rows get 0:
  //   CrossEntropy: (softmax(pred) − onehot(label)) / valid (a row with a bad label gets NaN);
  //   Mse: 2(p − t)/(valid·cols); L1: sign(p − t)/(valid·cols) with sign(0) = 0.
  void backward(vk::Recorder& rec, LossKind kind, const TensorRef& pred, const TensorRef& target,
                const vk::BufferRange& params, const TensorRef& dpred, uint32_t rows, uint32_t cols,
                uint32_t positions = 1) const;

private:
  const vk::Pipeline& pipeline(ElemType pred, ElemType target, ElemType out, uint32_t workgroup) const {
    return pipelines_.get({{0, workgroup}, {16, uint32_t(pred)}, {17, uint32_t(target)}, {18, uint32_t(out)}});
  }
  void check(const char* op, LossKind kind, const TensorRef& pred, const TensorRef& target,
             const vk::BufferRange& params, uint32_t rows, uint32_t cols, uint32_t positions) const;

  vk::Context& ctx_;
  KernelPipelines pipelines_;
};

}  // namespace vkgrad::kernels
