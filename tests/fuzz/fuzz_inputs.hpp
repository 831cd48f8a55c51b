// How the fuzz targets turn bytes into parser calls; the io tests replay the seed corpus and
// past crashes through the same functions, so every finding stays a regression test.
//
// A vkgrad::Error is the expected answer to a bad input and is swallowed; any other exception,
// a broken invariant (std::abort), a crash or a sanitizer report is a finding. Stateless.
#pragma once

#include "vkgrad/error.hpp"
#include "vkgrad/io/checkpoint.hpp"
#include "vkgrad/io/idx.hpp"
#include "vkgrad/io/npy.hpp"
#include "vkgrad/io/safetensors.hpp"
#include "vkgrad/vk/tuning_store.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <numeric>
#include <string>
#include <unistd.h>
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

// The bytes read as "header JSON, NUL, data" with the safetensors length prefix computed here:
// mutations that grow or shrink the header text would otherwise break the prefix and never
// reach the header checks.
inline std::vector<std::byte> with_length_prefix(const uint8_t* data, size_t size) {
  const auto* bytes = reinterpret_cast<const std::byte*>(data);
  const std::byte* nul = std::find(bytes, bytes + size, std::byte{0});
  const uint64_t header = uint64_t(nul - bytes);
  std::vector<std::byte> file;
  file.reserve(size + 8);
  for (int i = 0; i < 8; ++i) file.push_back(std::byte((header >> (8 * i)) & 0xff));
  file.insert(file.end(), bytes, nul);
  if (nul != bytes + size) file.insert(file.end(), nul + 1, bytes + size);
  return file;
}

// First the bytes as a whole file, then with the length prefix computed.
inline void safetensors_input(const uint8_t* data, size_t size) {
  const auto* bytes = reinterpret_cast<const std::byte*>(data);
  parse_safetensors(std::vector<std::byte>(bytes, bytes + size));
  parse_safetensors(with_length_prefix(data, size));
}

// The readers that take a path get the bytes through a file of this process's own.
inline std::filesystem::path input_file(const void* data, size_t size, const char* suffix) {
  const auto path = std::filesystem::temp_directory_path() / ("vkgrad-fuzz-" + std::to_string(getpid()) + suffix);
  std::ofstream(path, std::ios::binary | std::ios::trunc).write(static_cast<const char*>(data), std::streamsize(size));
  return path;
}

// A checkpoint (its metadata: the device state's counters, precision and optimizer, the
// caller's keys) and the parameters of any state_dict file, from the bytes as they are and with
// the length prefix computed. Every tensor of a loaded state must hold what its shape says.
inline void checkpoint_input(const uint8_t* data, size_t size) {
  const auto check = [](const train::TrainingState& s) {
    for (const auto& [name, t] : s.tensors)
      if (t.values.size() != std::accumulate(t.shape.begin(), t.shape.end(), uint64_t{1}, std::multiplies<>()))
        std::abort();
  };
  const auto prefixed = with_length_prefix(data, size);
  for (const auto& [bytes, n] : {std::pair{static_cast<const void*>(data), size},
                                 std::pair{static_cast<const void*>(prefixed.data()), prefixed.size()}}) {
    const auto path = input_file(bytes, n, ".safetensors");
    try {
      io::Metadata meta;
      check(io::load_checkpoint(path, &meta));
    } catch (const Error&) {
    }
    try {
      check(io::load_parameters(path));
    } catch (const Error&) {
    }
    std::filesystem::remove(path);
  }
}

// The GEMM tuning file a Context reads at start: any damage is ignored (measured anew), never
// thrown or crashed on, and only string choices are kept.
inline void tuning_input(const uint8_t* data, size_t size) {
  const auto path = input_file(data, size, ".json");
  const vk::TuningStore store(path, true);
  for (const auto& [key, value] : store.entries())
    if (store.find(key) != value) std::abort();
  std::filesystem::remove(path);
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
