#include "vkgrad/io/idx.hpp"

#include "io/files.hpp"
#include "vk/host_memory.hpp"
#include "vkgrad/error.hpp"

#include <zlib.h>

#include <algorithm>
#include <limits>
#include <optional>

namespace vkgrad::io {
namespace {

constexpr uint8_t kUnsignedByte = 0x08;
constexpr size_t kMaxDims = 4;
constexpr const char* kDamaged = "the file is damaged or not an IDX file: download it again";

std::string hex(unsigned v) {
  static constexpr char kDigits[] = "0123456789abcdef";
  return std::string("0x") + kDigits[(v >> 4) & 0xf] + kDigits[v & 0xf];
}

const char* idx_type_name(uint8_t code) {
  switch (code) {
    case 0x08: return "unsigned byte";
    case 0x09: return "signed byte";
    case 0x0B: return "short";
    case 0x0C: return "int";
    case 0x0D: return "float";
    case 0x0E: return "double";
    default: return nullptr;
  }
}

struct Header {
  uint8_t type_code = 0;
  std::vector<uint32_t> dims;
  size_t header_bytes = 0;  // 4 + 4 × dims
  uint64_t data_bytes = 0;  // product(dims): one byte per element
};

[[noreturn]] void fail(const std::string& source, const std::string& what, const std::string& hint = kDamaged) {
  throw Error("IDX file '" + source + "': " + what, hint);
}

// The header, checked; nullopt while `bytes` are too short to hold all of it (gunzip asks early).
std::optional<Header> read_header(std::span<const std::byte> bytes, const std::string& source) {
  if (bytes.size() >= 2 && (bytes[0] != std::byte{0} || bytes[1] != std::byte{0}))
    fail(source, "the magic number starts " + hex(unsigned(bytes[0])) + " " + hex(unsigned(bytes[1])) + ", not 00 00");
  if (bytes.size() < 4) return std::nullopt;
  Header h;
  h.type_code = uint8_t(bytes[2]);
  if (h.type_code != kUnsignedByte) {
    if (const char* name = idx_type_name(h.type_code))
      fail(source,
           "its elements are of type " + hex(h.type_code) + " (" + name + "); vkgrad reads unsigned bytes (0x08)",
           "convert the array to unsigned bytes");
    fail(source, "type code " + hex(h.type_code) + " is not an IDX type");
  }
  const size_t count = size_t(bytes[3]);
  if (count < 1 || count > kMaxDims)
    fail(source, "it has " + std::to_string(count) + " dimensions; vkgrad reads 1 to " + std::to_string(kMaxDims));
  h.header_bytes = 4 + 4 * count;
  if (bytes.size() < h.header_bytes) return std::nullopt;
  h.data_bytes = 1;
  for (size_t i = 0; i < count; ++i) {
    const std::byte* p = bytes.data() + 4 + 4 * i;  // big-endian
    const uint32_t d = uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | uint32_t(p[3]);
    if (d == 0) fail(source, "dimension " + std::to_string(i) + " is 0");
    h.dims.push_back(d);
    if (h.data_bytes > std::numeric_limits<uint64_t>::max() / d)
      fail(source, "its dimensions multiply to more than 2^64 elements");
    h.data_bytes *= d;
  }
  return h;
}

std::string dims_text(const std::vector<uint32_t>& dims) {
  std::string s;
  for (const uint32_t d : dims) s += (s.empty() ? "" : " × ") + std::to_string(d);
  return s;
}

// Inflates one or more concatenated gzip members (as gzip itself writes when appending). Stops
// as soon as the output is longer than the IDX header inside says, so that a small hostile file
// cannot claim gigabytes.
std::vector<std::byte> gunzip(std::span<const std::byte> in, const std::string& source) {
  const auto gzip_fail = [&](const std::string& what, const char* hint) {
    fail(source, what, hint);
  };
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 16) != Z_OK)  // 15-bit window, gzip wrapper only
    gzip_fail("zlib could not start inflating", "the process is out of memory");
  struct End {
    z_stream* zs;
    ~End() { inflateEnd(zs); }
  } end{&zs};

  std::vector<std::byte> out;
  std::optional<uint64_t> limit;  // header + data bytes, once the header is known
  size_t consumed = 0;
  constexpr size_t kChunk = size_t(1) << 16;
  for (;;) {
    // zlib counts in uInt: feed and drain at most 64 KiB at a time.
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<std::byte*>(in.data() + consumed));
    zs.avail_in = uInt(std::min(in.size() - consumed, kChunk));
    const size_t before_in = zs.avail_in;
    const size_t old_size = out.size();
    vk::host_resize(out, old_size + kChunk, "inflated " + source);
    zs.next_out = reinterpret_cast<Bytef*>(out.data() + old_size);
    zs.avail_out = uInt(kChunk);
    const int rc = inflate(&zs, Z_NO_FLUSH);
    consumed += before_in - zs.avail_in;
    out.resize(out.size() - zs.avail_out);
    if (rc == Z_DATA_ERROR || rc == Z_NEED_DICT)
      gzip_fail(std::string("corrupt gzip data (") + (zs.msg ? zs.msg : "no detail") + ") after " +
                    std::to_string(consumed) + " of " + std::to_string(in.size()) + " bytes",
                "the download is damaged: download the file again");
    if (rc == Z_MEM_ERROR) gzip_fail("zlib ran out of memory inflating it", "free memory and try again");
    if (!limit) {
      if (const auto header = read_header(out, source)) limit = header->header_bytes + header->data_bytes;
    }
    if (limit && out.size() > *limit)
      fail(source, "it decompresses to more than the " + std::to_string(*limit) +
                       " bytes its header declares (trailing data)");
    if (rc == Z_STREAM_END) {
      if (consumed == in.size()) break;
      // Another member may follow; anything else after the stream is an error, as in gzip -t.
      if (in.size() - consumed >= 2 && in[consumed] == std::byte{0x1f} && in[consumed + 1] == std::byte{0x8b}) {
        inflateReset(&zs);
        continue;
      }
      fail(source, std::to_string(in.size() - consumed) + " bytes follow the end of the gzip stream", kDamaged);
    }
    // Z_BUF_ERROR or Z_OK: no progress possible once the input is used up and output had room.
    if (consumed == in.size() && zs.avail_out != 0)
      gzip_fail("the gzip stream is truncated (" + std::to_string(in.size()) + " bytes, " +
                    std::to_string(out.size()) + " decompressed)",
                "the download was cut short: download the file again");
  }
  return out;
}

}  // namespace

IdxArray parse_idx(std::span<const std::byte> bytes, std::string source_name) {
  const auto header = read_header(bytes, source_name);
  if (!header)
    fail(source_name, "it has " + std::to_string(bytes.size()) + " bytes, too few for its header",
         "the file is truncated: download it again");
  const uint64_t available = bytes.size() - header->header_bytes;
  if (available != header->data_bytes)
    fail(source_name,
         "its header declares " + dims_text(header->dims) + " = " + std::to_string(header->data_bytes) +
             " bytes of data, it holds " + std::to_string(available) +
             (available < header->data_bytes ? " (truncated)" : " (trailing data)"),
         available < header->data_bytes ? "the file is truncated: download it again" : kDamaged);
  IdxArray array;
  array.type_code = header->type_code;
  array.dims = header->dims;
  vk::host_resize(array.data, available, "IDX data of " + source_name);
  std::transform(bytes.begin() + std::ptrdiff_t(header->header_bytes), bytes.end(), array.data.begin(),
                 [](std::byte b) { return uint8_t(b); });
  return array;
}

IdxArray decode_idx(std::span<const std::byte> bytes, std::string source_name) {
  if (bytes.size() >= 2 && bytes[0] == std::byte{0x1f} && bytes[1] == std::byte{0x8b}) {
    const std::vector<std::byte> inflated = gunzip(bytes, source_name);
    return parse_idx(inflated, std::move(source_name));
  }
  return parse_idx(bytes, std::move(source_name));
}

IdxArray load_idx(const std::filesystem::path& path) {
  return decode_idx(detail::read_whole_file(path, "IDX file"), detail::utf8(path));
}

Dataset load_idx_dataset(const std::filesystem::path& images_path, const std::filesystem::path& labels_path,
                         uint32_t num_classes) {
  const std::string both = "IDX dataset (images " + detail::quoted(images_path) + ", labels " +
                           detail::quoted(labels_path) + ")";
  if (num_classes < 1 || num_classes > 256)
    throw Error(both + ": num_classes is " + std::to_string(num_classes) + ", not 1 to 256",
                "byte labels allow at most 256 classes");
  IdxArray images = load_idx(images_path);
  IdxArray labels = load_idx(labels_path);
  if (images.dims.size() != 3)
    throw Error(both + ": the images are " + dims_text(images.dims) + " (" + std::to_string(images.dims.size()) +
                    "-D), not count × rows × cols",
                "check that the images file comes first and is an idx3 file");
  if (labels.dims.size() != 1)
    throw Error(both + ": the labels are " + dims_text(labels.dims) + " (" + std::to_string(labels.dims.size()) +
                    "-D), not one label per image",
                "check that the labels file comes second and is an idx1 file");
  if (images.dims[0] != labels.dims[0])
    throw Error(both + ": " + std::to_string(images.dims[0]) + " images but " + std::to_string(labels.dims[0]) +
                    " labels",
                "pair the images with their own labels (train with train, t10k with t10k)");
  for (size_t i = 0; i < labels.data.size(); ++i)
    if (labels.data[i] >= num_classes)
      throw Error(both + ": label " + std::to_string(labels.data[i]) + " of image " + std::to_string(i) +
                      " is not below num_classes = " + std::to_string(num_classes),
                  "pass the dataset's number of classes, or check that the labels file is the right one");
  Dataset set;
  set.count = images.dims[0];
  set.rows = images.dims[1];
  set.cols = images.dims[2];
  set.images = std::move(images.data);
  set.labels = std::move(labels.data);
  return set;
}

}  // namespace vkgrad::io
