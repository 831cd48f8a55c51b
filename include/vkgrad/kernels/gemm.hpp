// vkgrad::kernels::Gemm — C = act(α·op(A)·op(B) + β·C + bias), batched, with FP32 accumulation.
//
// Variants (shaders/gemm_*.comp, one family): `coopmat` (cooperative matrices, fp16 operands),
// `tiled16` (portable tiles, fp16 operands), `fp32` (portable tiles, fp32 operands), `cpu`
// (shaped for CPU Vulkan drivers, any operand types, reads A and B through buffer device
// addresses), `coopmat2` (VK_NV_cooperative_matrix2: flexible subgroup tiles, per-element
// epilogue; fp16 operands). Operand layouts (transposed or not), element types, alignment
// (128-bit loads, direct stores), tile preset, subgroup shape and workgroup size are
// specialization constants; shapes, leading dimensions, strides, α, β and the epilogue are push
// constants, so a handful of pipelines serve every call. Holds pipelines from the Context's
// registry; recording is const. One thread at a time.
#pragma once

#include "vkgrad/kernels/tensor_ref.hpp"
#include "vkgrad/kernels/variant.hpp"
#include "vkgrad/vk/recorder.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace vkgrad::vk {
class Context;
}

namespace vkgrad::kernels {

enum class Activation : uint32_t { None = 0, Relu = 1, Gelu = 2, GeluTanh = 3 };
enum class GemmVariant { Coopmat, Tiled16, Fp32, Cpu, Coopmat2 };
enum class GemmPreset { Small, Medium, Large };

std::string_view gemm_variant_name(GemmVariant v);  // "coopmat", "tiled16", "fp32", "cpu", "coopmat2"
std::optional<GemmVariant> gemm_variant_from_name(std::string_view name);
std::string_view gemm_preset_name(GemmPreset p);

// One operand as stored: row-major with leading dimension `ld` (elements between rows), a
// stride between batch entries, and whether the kernel reads it transposed.
struct GemmOperand {
  vk::BufferRange range;
  ElemType type = ElemType::F16;
  uint32_t ld = 0;
  uint32_t batch_stride = 0;  // elements; ignored when batch == 1
  bool transpose = false;
};

// A 2-D convolution's shape, for the implicit-GEMM passes: NCHW tensors, weight
// [groups·out_channels, in_channels, kernel_h, kernel_w] (PyTorch's layout); channels per group.
struct ConvGeometry {
  uint32_t groups = 1;
  uint32_t in_channels = 1, out_channels = 1;  // per group
  uint32_t in_h = 1, in_w = 1;
  uint32_t kernel_h = 1, kernel_w = 1;
  uint32_t stride_h = 1, stride_w = 1;
  uint32_t pad_h = 0, pad_w = 0;
  uint32_t dilation_h = 1, dilation_w = 1;
  uint32_t out_h() const;  // (in + 2·pad − dilation·(kernel − 1) − 1) / stride + 1
  uint32_t out_w() const;
  uint32_t taps() const { return kernel_h * kernel_w; }
};

// How a GEMM reads its operands (shaders/common/gemm.glsl): stored matrices, or views of a
// convolution's NCHW tensors (no im2col buffer), for `samples` images:
//   Forward:    A = weight (ld = in_channels·taps, batch_stride = one group's weights),
//               B = input images, C = output [samples·groups][out_channels][out pixels];
//               m = out_channels, n = out pixels, k = in_channels·taps, batch = samples·groups;
//               a bias has groups·out_channels elements, one per output channel (row).
//   DataGrad:   A = weight, B = output gradient, C = input gradient;
//               m = in_channels, n = in pixels, k = out_channels·taps, batch = samples·groups.
//   WeightGrad: A = output gradient, B = input images, C = weight gradient [groups][out][in·taps];
//               m = out_channels, n = in_channels·taps, k = samples·out pixels, batch = groups.
// Conv-addressed operands ignore ld, batch_stride and transpose; C stays a stored matrix.
enum class ConvPass : uint32_t { None = 0, Forward = 1, DataGrad = 2, WeightGrad = 3 };

// C[b] = act(alpha · op(A[b]) · op(B[b]) + beta · C[b] + bias) for b < batch, where op(A) is
// m×k, op(B) is k×n, C is m×n and bias (optional) has n elements. beta = 0 never reads C.
struct GemmDesc {
  uint32_t m = 0, n = 0, k = 0;
  uint32_t batch = 1;
  GemmOperand a, b, c;
  float alpha = 1.0f, beta = 0.0f;
  std::optional<vk::BufferRange> bias;
  ElemType bias_type = ElemType::F32;
  Activation activation = Activation::None;
  ConvPass conv = ConvPass::None;
  ConvGeometry geometry;  // with conv
};

// Mirrors the push constants of shaders/common/gemm.glsl.
struct GemmArgs {
  uint32_t m, n, k;
  uint32_t lda, ldb, ldc;
  uint32_t stride_a, stride_b, stride_c;
  float alpha, beta;
  uint32_t flags;  // bit 0: bias, bits 1-2: activation
};
// The same for kernels that read A and B through buffer device addresses (GEMM_ADDRESSES).
struct GemmAddressArgs {
  GemmArgs args;
  uint64_t a_address, b_address;
};
static_assert(sizeof(GemmArgs) == 48 && offsetof(GemmAddressArgs, a_address) == 48);
static_assert(sizeof(GemmAddressArgs) <= 128);

struct GemmChoice {
  GemmVariant variant = GemmVariant::Tiled16;
  GemmPreset preset = GemmPreset::Medium;
};

// The selection rule, pure (unit-tested on made-up capability tables):
// - On a CPU device with bufferDeviceAddress → cpu, whatever the operand types: there
//   `vkgrad-bench gemm` measures it fastest (cooperative matrices are emulated).
// - Else fp32 operands → fp32; fp16 operands → coopmat where select_coopmat() finds a tile,
//   else tiled16. coopmat2 is never the rule's pick: measurement (gemm_tuning.hpp) chooses it
//   where it is faster and passes its correctness probe.
// - `forced` asks for a variant by name; an impossible request throws Error saying why.
// - Preset from the shape: Small when m or n < 64, Large when both ≥ 512 and the device's
//   shared memory holds the large tiles, else Medium; for cpu (rows per workgroup 4, 8, 12)
//   Large when m ≥ 12, Medium when m ≥ 8, else Small.
GemmChoice select_gemm(const vk::Caps& caps, uint32_t m, uint32_t n, ElemType a, ElemType b,
                       std::optional<GemmVariant> forced = std::nullopt);

// Whether the device's workgroup limits hold the choice's tiles.
bool gemm_choice_fits(const vk::Caps& caps, const GemmChoice& choice);

class Gemm {
public:
  explicit Gemm(vk::Context& ctx);
  // Checks `desc` (shapes, leading dimensions, range sizes) and records one dispatch with the
  // chosen variant; returns the choice. Unforced, on a Context that tunes kernels, the choice
  // is the measured one (gemm_tuning.hpp): the first GEMM of a shape class without a stored
  // choice measures the candidates then (allocates, submits and waits), once per device.
  GemmChoice record(vk::Recorder& rec, const GemmDesc& desc, std::optional<GemmVariant> forced = std::nullopt) const;
  // The same with an exact variant and preset (benchmarks, tuning); Error if the variant cannot
  // run here or its tiles exceed the device's limits.
  void record_with(vk::Recorder& rec, const GemmDesc& desc, const GemmChoice& choice) const;

private:
  vk::Context& ctx_;
};

}  // namespace vkgrad::kernels
