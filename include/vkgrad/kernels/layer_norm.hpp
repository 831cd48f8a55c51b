// vkgrad::kernels::LayerNorm — layer normalization over the last dimension with an affine γ, β
// (shaders/layer_norm.comp): forward, and the backward of the input and of γ, β. Statistics and
// arithmetic in fp32 whatever the storage; deterministic (fixed-order tree sums, no float
// atomics). One pipeline per element-type combination and workgroup size, from the Context's
// registry on first use; recording is const but fills that cache: one thread at a time.
#pragma once

#include "vkgrad/kernels/kernel_pipelines.hpp"
#include "vkgrad/kernels/tensor_ref.hpp"
#include "vkgrad/vk/recorder.hpp"

#include <cstdint>
#include <optional>

namespace vkgrad::vk {
class Context;
}

namespace vkgrad::kernels {

// Mirrors the push constants of shaders/layer_norm.comp.
struct LayerNormArgs {
  uint32_t mode;
  uint32_t rows, dim;
  float eps;
  uint32_t flags;
};

class LayerNorm {
public:
  explicit LayerNorm(vk::Context& ctx);
  // y = (x − mean)·rsqrt(var + eps)·γ + β per row of x [rows, dim] (biased variance, as
  // PyTorch); γ and β [dim] share one element type. x, y, dy and dx may each be fp16 or fp32.
  void forward(vk::Recorder& rec, const TensorRef& x, const TensorRef& gamma, const TensorRef& beta,
               const TensorRef& y, uint32_t rows, uint32_t dim, float eps) const;
  // dγ += Σ dy·x̂, dβ += Σ dy (fp32 [dim]) and, when dx is given, dx (+)= ∂L/∂x (accumulate).
  // `stats` is scratch of stats_bytes(rows).
  void backward(vk::Recorder& rec, const TensorRef& x, const TensorRef& dy, const TensorRef& gamma,
                const std::optional<TensorRef>& dx, bool accumulate, const vk::BufferRange& dgamma,
                const vk::BufferRange& dbeta, const vk::BufferRange& stats, uint32_t rows, uint32_t dim,
                float eps) const;
  static uint64_t stats_bytes(uint32_t rows) { return 8ull * rows; }

private:
  const vk::Pipeline& pipeline(ElemType x, ElemType dy, ElemType param, ElemType out, uint32_t workgroup) const {
    return pipelines_.get(
        {{0, workgroup}, {16, uint32_t(x)}, {17, uint32_t(param)}, {18, uint32_t(out)}, {19, uint32_t(dy)}});
  }

  vk::Context& ctx_;
  KernelPipelines pipelines_;
};

}  // namespace vkgrad::kernels
