// IDX: the array format of MNIST and Fashion-MNIST (http://yann.lecun.com/exdb/mnist/). Two
// zero bytes, a type code, a dimension count D, D big-endian u32 dimensions, then the elements
// in row-major order; the published files are gzip-compressed.
//
// Plain functions returning values they own; nothing retained. Thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

namespace vkgrad::io {

// One IDX array. Only unsigned-byte data (type code 0x08) is read; the others are rejected.
struct IdxArray {
  uint8_t type_code = 0x08;
  std::vector<uint32_t> dims;  // 1 to 4 of them, each non-zero
  std::vector<uint8_t> data;   // product(dims) elements, row-major
};

// Reads a plain or gzip-compressed IDX file (gzip recognised by its 1f 8b magic). Throws Error
// naming the path when it cannot be read, the gzip stream is truncated or corrupt, or the array
// fails a check of parse_idx.
IdxArray load_idx(const std::filesystem::path& path);

// Checks and decodes an uncompressed IDX array: magic 00 00, type code 0x08, 1 to 4 non-zero
// dimensions, and exactly product(dims) bytes of data after the header (truncation and trailing
// bytes are both errors). `source_name` stands for the file in errors.
IdxArray parse_idx(std::span<const std::byte> bytes, std::string source_name);

// load_idx on bytes already in memory: gunzips them first when they start with 1f 8b.
// Decompression stops as soon as the output passes the size the IDX header declares.
IdxArray decode_idx(std::span<const std::byte> bytes, std::string source_name);

// An image classification set: `count` images of rows × cols bytes and one label per image.
struct Dataset {
  uint32_t count = 0, rows = 0, cols = 0;
  std::vector<uint8_t> images;  // count × rows × cols, row-major
  std::vector<uint8_t> labels;  // count, each < the num_classes it was loaded with
};

// Loads an images file (3-D: count, rows, cols) and a labels file (1-D: count) and checks that
// they pair up: the same count, every label below num_classes (1 to 256). Errors about the
// pairing name both files.
Dataset load_idx_dataset(const std::filesystem::path& images_path, const std::filesystem::path& labels_path,
                         uint32_t num_classes = 10);

}  // namespace vkgrad::io
