#include "vkgrad/io/npy.hpp"

#include "io/elements.hpp"
#include "io/files.hpp"
#include "vkgrad/error.hpp"

#include <cctype>
#include <cstring>
#include <limits>
#include <optional>
#include <string_view>

namespace vkgrad::io {
namespace {

constexpr const char* kResave = "save it again with numpy.save (C order, little-endian): "
                                "numpy.save(path, numpy.ascontiguousarray(a, dtype=a.dtype.newbyteorder('<')))";

struct NpyDtype {
  std::string_view descr;
  Dtype dtype;
};
// '<' little-endian, '|' not applicable (one byte); numpy also writes '=' for native order in
// some versions, which on every platform vkgrad runs on is little-endian.
constexpr NpyDtype kDtypes[] = {{"f8", Dtype::F64}, {"f4", Dtype::F32}, {"f2", Dtype::F16}, {"i8", Dtype::I64},
                                {"i4", Dtype::I32}, {"i2", Dtype::I16}, {"i1", Dtype::I8},  {"u1", Dtype::U8},
                                {"b1", Dtype::Bool}};

// The header is a Python dict literal: {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }
class Header {
public:
  Header(std::string_view text, std::string prefix) : text_(text), prefix_(std::move(prefix)) {}

  [[noreturn]] void fail(const std::string& what, const std::string& hint = kResave) const {
    throw Error(prefix_ + what, hint);
  }

  // The text right after "'key':", spaces skipped.
  std::string_view value_of(std::string_view key) const {
    const std::string quoted = "'" + std::string(key) + "'";
    const size_t at = text_.find(quoted);
    if (at == std::string_view::npos) fail("its header has no '" + std::string(key) + "'");
    size_t i = at + quoted.size();
    while (i < text_.size() && text_[i] == ' ') ++i;
    if (i >= text_.size() || text_[i] != ':') fail("its header is not a dict: no ':' after '" + std::string(key) + "'");
    ++i;
    while (i < text_.size() && text_[i] == ' ') ++i;
    return text_.substr(i);
  }

  Dtype dtype() const {
    const std::string_view v = value_of("descr");
    if (v.empty() || v[0] != '\'') fail("its dtype is not a simple type (a structured or object array)");
    const size_t end = v.find('\'', 1);
    if (end == std::string_view::npos) fail("its header's 'descr' is not a closed string");
    const std::string_view descr = v.substr(1, end - 1);
    if (descr.size() == 3 && descr[0] == '>')
      fail("its dtype '" + std::string(descr) + "' is big-endian");
    if (descr.size() == 3 && (descr[0] == '<' || descr[0] == '|' || descr[0] == '='))
      for (const NpyDtype& d : kDtypes)
        if (descr.substr(1) == d.descr) return d.dtype;
    fail("its dtype '" + std::string(descr) + "' is not one vkgrad reads",
         "use float64/32/16, int64/32/16/8, uint8 or bool: numpy.save(path, a.astype(numpy.float32))");
  }

  bool fortran_order() const {
    const std::string_view v = value_of("fortran_order");
    if (v.substr(0, 4) == "True") return true;
    if (v.substr(0, 5) == "False") return false;
    fail("its header's 'fortran_order' is neither True nor False");
  }

  std::vector<uint64_t> shape() const {
    const std::string_view v = value_of("shape");
    if (v.empty() || v[0] != '(') fail("its header's 'shape' is not a tuple");
    const size_t end = v.find(')');
    if (end == std::string_view::npos) fail("its header's 'shape' is not a closed tuple");
    std::vector<uint64_t> dims;
    size_t i = 1;
    while (i < end) {
      while (i < end && (v[i] == ' ' || v[i] == ',')) ++i;
      if (i == end) break;
      if (!std::isdigit(static_cast<unsigned char>(v[i]))) fail("its header's 'shape' holds something not a size");
      uint64_t d = 0;
      while (i < end && std::isdigit(static_cast<unsigned char>(v[i]))) {
        const uint64_t digit = uint64_t(v[i] - '0');
        if (d > (std::numeric_limits<uint64_t>::max() - digit) / 10) fail("a dimension of its shape overflows 64 bits");
        d = d * 10 + digit;
        ++i;
      }
      dims.push_back(d);
    }
    return dims;
  }

private:
  std::string_view text_;
  std::string prefix_;
};

}  // namespace

uint64_t NpyArray::count() const {
  uint64_t n = 1;
  for (uint64_t d : shape) n *= d;
  return n;
}

std::vector<float> NpyArray::to_f32() const { return detail::elements_to_f32(dtype, data); }

std::vector<int64_t> NpyArray::to_i64() const {
  auto v = detail::elements_to_i64(dtype, data);
  if (!v)
    throw Error(".npy array of " + std::string(dtype_name(dtype)) + " read as integers",
                "read floating-point arrays with to_f32");
  return std::move(*v);
}

NpyArray load_npy(const std::filesystem::path& path) {
  return parse_npy(detail::read_whole_file(path, ".npy file"), detail::utf8(path));
}

NpyArray parse_npy(std::span<const std::byte> bytes, const std::string& source) {
  const std::string prefix = ".npy file '" + source + "': ";
  const auto fail = [&](const std::string& what) -> Error {
    return Error(prefix + what, "the file is damaged or is not a .npy file: save it again with numpy.save");
  };
  constexpr unsigned char kMagic[] = {0x93, 'N', 'U', 'M', 'P', 'Y'};
  if (bytes.size() < 10 || std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0)
    throw fail("it does not start with the .npy magic (\\x93NUMPY)");
  const auto major = std::to_integer<unsigned>(bytes[6]);
  if (major < 1 || major > 3)
    throw Error(prefix + "format version " + std::to_string(major) + "." + std::to_string(std::to_integer<unsigned>(bytes[7])) +
                    " is not one vkgrad reads (1.0 to 3.0)",
                kResave);
  const size_t length_bytes = major == 1 ? 2 : 4;
  if (bytes.size() < 8 + length_bytes) throw fail("it ends inside its header length");
  const uint64_t header_bytes =
      major == 1 ? detail::load_le<uint16_t>(bytes.data() + 8) : detail::load_le<uint32_t>(bytes.data() + 8);
  const uint64_t data_at = 8 + length_bytes + header_bytes;
  if (data_at > bytes.size())
    throw fail("its header is " + std::to_string(header_bytes) + " bytes; the file has " +
               std::to_string(bytes.size() - 8 - length_bytes) + " after the preamble");
  const std::string_view text(reinterpret_cast<const char*>(bytes.data()) + 8 + length_bytes, header_bytes);
  const Header header(text, prefix);

  NpyArray a;
  a.dtype = header.dtype();
  if (header.fortran_order()) header.fail("its array is in Fortran order");
  a.shape = header.shape();
  uint64_t count = 1;
  for (uint64_t d : a.shape) {
    if (d != 0 && count > std::numeric_limits<uint64_t>::max() / d) throw fail("its shape's element count overflows");
    count *= d;
  }
  const uint64_t size = dtype_size(a.dtype);
  const uint64_t available = bytes.size() - data_at;
  if (count > available / size || count * size != available)
    throw fail("its shape holds " + std::to_string(count) + " elements of " + std::to_string(size) + " bytes, but " +
               std::to_string(available) + " bytes follow the header");
  a.data.assign(bytes.begin() + std::ptrdiff_t(data_at), bytes.end());
  return a;
}

}  // namespace vkgrad::io
