// NumPy .npy arrays (what numpy.save writes; format versions 1.0, 2.0 and 3.0): the dtype,
// shape and raw elements of one C-order array, checked against the header.
//
// Reads little-endian and single-byte dtypes: float64/32/16 ('<f8', '<f4', '<f2'), int64/32/16/8
// ('<i8', '<i4', '<i2', '|i1'), uint8 ('|u1') and bool ('|b1'). Big-endian and Fortran-order
// arrays, object arrays and other dtypes are an Error saying how to re-save them. A loaded
// NpyArray is a plain value; the function is thread-safe.
#pragma once

#include "vkgrad/io/safetensors.hpp"

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

namespace vkgrad::io {

struct NpyArray {
  Dtype dtype = Dtype::F32;
  std::vector<uint64_t> shape;  // empty for a 0-d array (one element)
  std::vector<std::byte> data;  // count() elements, little-endian

  uint64_t count() const;
  std::vector<float> to_f32() const;    // any dtype (integers as their value)
  std::vector<int64_t> to_i64() const;  // integer and bool dtypes; Error for floats
};

NpyArray load_npy(const std::filesystem::path& path);
// The same from bytes already in memory; `source` names them in errors.
NpyArray parse_npy(std::span<const std::byte> bytes, const std::string& source);

}  // namespace vkgrad::io
