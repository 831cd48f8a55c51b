// Decoding little-endian tensor elements of any io::Dtype, shared by the file formats that hold
// them (safetensors, .npy). Free functions, no state. Thread-safe.
#pragma once

#include "vkgrad/io/safetensors.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace vkgrad::io::detail {

// An unsigned integer stored little-endian at p (any alignment).
template <class U>
U load_le(const std::byte* p) {
  U v = 0;
  for (size_t i = sizeof(U); i-- > 0;) v = U(U(v << 8) | U(p[i]));
  return v;
}

// Every element as float: floats exactly or rounded (F64 beyond float's range becomes ±inf),
// integers and BOOL (0 or 1) as their value (beyond 2^24 rounded). `data` holds whole elements.
std::vector<float> elements_to_f32(Dtype dtype, std::span<const std::byte> data);
// Every element of an integer or BOOL dtype; nullopt for floating-point dtypes.
std::optional<std::vector<int64_t>> elements_to_i64(Dtype dtype, std::span<const std::byte> data);

}  // namespace vkgrad::io::detail
