// Element types and TensorRef: how kernels see a tensor (a buffer range and its element type).
// Plain values; thread-safe.
#pragma once

#include "vkgrad/vk/buffer.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace vkgrad::kernels {

// Codes match TYPE_F32 / TYPE_F16 in shaders/common/*.glsl. fp16 tensors are read and written
// as 32-bit words (element i is half i & 1 of word i >> 1), so they need no 16-bit storage.
enum class ElemType : uint32_t { F32 = 0, F16 = 1 };

size_t elem_bytes(ElemType t);
std::string_view elem_type_name(ElemType t);  // "f32", "f16"
// Bytes that `elements` values of type `t` occupy, rounded up to whole 32-bit words.
size_t tensor_bytes(ElemType t, size_t elements);

// fp32 → fp16 bits, nearest with ties to even, subnormals kept: the host twin of half_rte in
// shaders/common/words.glsl, so that host- and device-made fp16 values agree bit for bit.
uint16_t half_bits(float value);
float half_value(uint16_t bits);

struct TensorRef {
  vk::BufferRange range;
  ElemType type = ElemType::F32;
};

// Throws Error ("KERNEL: NAME holds N f16 elements (B bytes) but its range has R") unless t has a
// buffer and room for `elements` values of its type.
void require_elements(std::string_view kernel, std::string_view name, const TensorRef& t, uint64_t elements);

}  // namespace vkgrad::kernels
