// The GEMM variants kernel tests run, each in a context with the other paths switched off, and
// the features it is skipped without (naming them).
#pragma once

#include "vkgrad/kernels/gemm.hpp"
#include "vkgrad/vk/caps.hpp"

#include <vector>

namespace vkgrad::test {

struct VariantCase {
  const char* name;
  kernels::GemmVariant variant;
  kernels::ElemType operands;        // A and B (fp16 variants: fp16 tensors; fp32: fp32)
  std::vector<vk::Feature> disable;  // the context it runs in: the other paths switched off
  std::vector<vk::Feature> needs;    // skipped, naming them, where the device lacks these
};

inline const VariantCase kGemmVariants[] = {
    {"coopmat", kernels::GemmVariant::Coopmat, kernels::ElemType::F16, {}, {vk::Feature::Coopmat}},
    {"coopmat2", kernels::GemmVariant::Coopmat2, kernels::ElemType::F16, {}, {vk::Feature::Coopmat2}},
    {"tiled16", kernels::GemmVariant::Tiled16, kernels::ElemType::F16, {vk::Feature::Coopmat}, {}},
    {"fp32", kernels::GemmVariant::Fp32, kernels::ElemType::F32, {vk::Feature::Fp16Arith, vk::Feature::Storage16}, {}},
    {"cpu", kernels::GemmVariant::Cpu, kernels::ElemType::F16, {vk::Feature::Coopmat},
     {vk::Feature::BufferDeviceAddress}},
    {"cpu_f32", kernels::GemmVariant::Cpu, kernels::ElemType::F32, {vk::Feature::Fp16Arith, vk::Feature::Storage16},
     {vk::Feature::BufferDeviceAddress}},
};

}  // namespace vkgrad::test
