// How the fuzz targets turn bytes into parser calls; the io tests replay the seed corpus and
// past crashes through the same functions, so every finding stays a regression test.
//
// A vkgrad::Error is the expected answer to a bad input and is swallowed; any other exception,
// a broken invariant (std::abort), a crash or a sanitizer report is a finding. Stateless.
#pragma once

#include "vkgrad/error.hpp"
#include "vkgrad/io/idx.hpp"
#include "vkgrad/io/npy.hpp"
#include "vkgrad/io/safetensors.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <numeric>
#include <vector>

namespace vkgrad::fuzz {

inline void parse_safetensors(std::vector<std::byte> bytes) {
  try {
    const io::SafetensorsFile file = io::SafetensorsFile::parse(std::move(bytes), "fuzz input");
    for (const std::string& name : file.names()) {
      const io::TensorView& t = file.tensor(name);
      const uint64_t elements =
          std::accumulate(t.shape.begin(), t.shape.end(), uint64_t{1}, std::multiplies<>());
      if (t.data.size() != elements * io::dtype_size(t.dtype)) std::abort();
      if (file.to_f32(name).size() != elements) std::abort();
      if (t.dtype != io::Dtype::F64 && t.dtype != io::Dtype::F32 && t.dtype != io::Dtype::F16 &&
          t.dtype != io::Dtype::BF16 && file.to_i64(name).size() != elements)
        std::abort();
    }
  } catch (const Error&) {
  }
}

// First the bytes as a whole file. Then the same bytes read as "header JSON, NUL, data" with
// the length prefix computed here: mutations that grow or shrink the header text would
// otherwise break the prefix and never reach the header checks.
inline void safetensors_input(const uint8_t* data, size_t size) {
  const auto* bytes = reinterpret_cast<const std::byte*>(data);
  parse_safetensors(std::vector<std::byte>(bytes, bytes + size));

  const std::byte* nul = std::find(bytes, bytes + size, std::byte{0});
  const uint64_t header = uint64_t(nul - bytes);
  std::vector<std::byte> file;
  file.reserve(size + 8);
  for (int i = 0; i < 8; ++i) file.push_back(std::byte((header >> (8 * i)) & 0xff));
  file.insert(file.end(), bytes, nul);
  if (nul != bytes + size) file.insert(file.end(), nul + 1, bytes + size);
  parse_safetensors(std::move(file));
}

// decode_idx: gzip when the input starts 1f 8b, plain IDX otherwise.
inline void idx_input(const uint8_t* data, size_t size) {
  try {
    const io::IdxArray a = io::decode_idx({reinterpret_cast<const std::byte*>(data), size}, "fuzz input");
    if (a.dims.empty() || a.dims.size() > 4) std::abort();
    const uint64_t elements = std::accumulate(a.dims.begin(), a.dims.end(), uint64_t{1}, std::multiplies<>());
    if (a.data.size() != elements) std::abort();
  } catch (const Error&) {
  }
}

// parse_npy, then every element decoded: the shape must account for the data exactly.
inline void npy_input(const uint8_t* data, size_t size) {
  try {
    const io::NpyArray a = io::parse_npy({reinterpret_cast<const std::byte*>(data), size}, "fuzz input");
    if (a.data.size() != a.count() * io::dtype_size(a.dtype)) std::abort();
    if (a.to_f32().size() != a.count()) std::abort();
  } catch (const Error&) {
  }
}

}  // namespace vkgrad::fuzz
