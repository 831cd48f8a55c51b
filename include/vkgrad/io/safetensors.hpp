// safetensors: the checkpoint format (https://github.com/huggingface/safetensors). An 8-byte
// little-endian header length N, N bytes of JSON naming each tensor's dtype, shape and byte
// range, then the tensors' bytes.
//
// SafetensorsFile owns a whole file's bytes, checked in full before anything is handed out;
// TensorToWrite borrows the caller's bytes until save_safetensors returns. Thread safety: a
// loaded SafetensorsFile is read-only, safe to share between threads for const use.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace vkgrad::io {

// The element types vkgrad reads and writes; the names are safetensors' ("F32", "BOOL", ...).
enum class Dtype : uint8_t { F64, F32, F16, BF16, I64, I32, I16, I8, U8, Bool };

size_t dtype_size(Dtype dtype);            // bytes per element: 8, 4, 2, 2, 8, 4, 2, 1, 1, 1
std::string_view dtype_name(Dtype dtype);  // "F64", "F32", "F16", "BF16", ..., "U8", "BOOL"

// One tensor of a loaded file. `data` points into the SafetensorsFile that owns it (valid as
// long as that file object lives, also after it is moved); it is little-endian and not
// necessarily aligned to the element size: read it through to_f32/to_i64 or std::memcpy.
struct TensorView {
  std::string name;
  Dtype dtype = Dtype::F32;
  std::vector<uint64_t> shape;  // empty for a scalar
  std::span<const std::byte> data;
};

// A safetensors file read fully into memory and checked: every header field, every tensor's
// byte count against its shape, byte ranges inside the data section and not overlapping, no
// duplicate names. Gaps between tensors and bytes after the last one are allowed. Move-only
// (the views point into the owned bytes). Thread-safe for const use.
class SafetensorsFile {
public:
  // Throws Error naming the path and the problem when the file cannot be read or fails a check.
  static SafetensorsFile load(const std::filesystem::path& path);
  // The same checks on bytes already in memory; `source_name` stands for the file in errors.
  static SafetensorsFile parse(std::vector<std::byte> bytes, std::string source_name);

  SafetensorsFile(SafetensorsFile&&) noexcept = default;
  SafetensorsFile& operator=(SafetensorsFile&&) noexcept = default;
  SafetensorsFile(const SafetensorsFile&) = delete;
  SafetensorsFile& operator=(const SafetensorsFile&) = delete;

  const std::string& source_name() const { return source_; }
  const std::map<std::string, std::string>& metadata() const { return metadata_; }  // "__metadata__"
  std::vector<std::string> names() const;  // sorted
  bool contains(const std::string& name) const;
  // Throws Error naming the file and listing a few of the names it has.
  const TensorView& tensor(const std::string& name) const;

  // Every element converted to float: F32/F16/BF16/F64, integers and BOOL (0 or 1). F64 and
  // integers beyond 2^24 round to the nearest float.
  std::vector<float> to_f32(const std::string& name) const;
  // Every element of an I64/I32/I16/I8/U8/BOOL tensor; throws Error for floating-point dtypes.
  std::vector<int64_t> to_i64(const std::string& name) const;

private:
  SafetensorsFile() = default;

  std::string source_;
  std::vector<std::byte> bytes_;
  std::map<std::string, std::string> metadata_;
  std::map<std::string, TensorView> tensors_;
};

// One tensor to save; `data` is borrowed, little-endian, exactly product(shape) × dtype_size bytes.
struct TensorToWrite {
  std::string name;
  Dtype dtype = Dtype::F32;
  std::vector<uint64_t> shape;
  std::span<const std::byte> data;
};

// Writes `tensors` and `metadata` to `path` atomically: into a temporary file beside it
// (".NAME.tmp-XXXXXXXXXXXXXXXX"), flushed and fsync'ed, then renamed over `path` and the folder
// synced. A failure or a crash mid-write leaves an existing file at `path` untouched (a crash
// can leave the temporary file behind; nothing reads it). Deterministic output: names sorted,
// tensors laid out in name order, the header padded with spaces to a multiple of 8 bytes.
// Throws Error, before writing anything, for duplicate or reserved ("__metadata__") names and a
// data size that does not match the shape; and naming the path when writing fails.
void save_safetensors(const std::filesystem::path& path, std::span<const TensorToWrite> tensors,
                      const std::map<std::string, std::string>& metadata = {});

}  // namespace vkgrad::io
