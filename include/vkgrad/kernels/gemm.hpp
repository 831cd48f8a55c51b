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
