#include "vkgrad/io/safetensors.hpp"

#include "io/elements.hpp"
#include "io/files.hpp"
#include "vkgrad/error.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <bit>
#include <chrono>
#include <cmath>
#include <fstream>
#include <limits>
#include <optional>
#include <random>
#include <set>
#include <system_error>

namespace vkgrad::io {
namespace {

using json = nlohmann::json;

// The reference implementation refuses longer headers too; a real one is a few kB per 100 tensors.
constexpr uint64_t kMaxHeaderBytes = 100'000'000;
constexpr std::string_view kMetadataKey = "__metadata__";
constexpr const char* kDamaged = "the file is damaged or was not written as safetensors: save or download it again";

struct DtypeInfo {
  Dtype dtype;
  std::string_view name;
  size_t size;
};
// In enum order, so that a Dtype indexes it.
constexpr std::array<DtypeInfo, 10> kDtypes = {{{Dtype::F64, "F64", 8},
                                                {Dtype::F32, "F32", 4},
                                                {Dtype::F16, "F16", 2},
                                                {Dtype::BF16, "BF16", 2},
                                                {Dtype::I64, "I64", 8},
                                                {Dtype::I32, "I32", 4},
                                                {Dtype::I16, "I16", 2},
                                                {Dtype::I8, "I8", 1},
                                                {Dtype::U8, "U8", 1},
                                                {Dtype::Bool, "BOOL", 1}}};
// Dtypes the safetensors reference knows that vkgrad does not read, for a more useful message.
constexpr std::array<std::string_view, 10> kForeignDtypes = {"U16",     "U32",     "U64",     "F8_E4M3", "F8_E5M2",
                                                             "F8_E8M0", "F6_E2M3", "F6_E3M2", "F4",      "C64"};

const DtypeInfo& info(Dtype dtype) {
  if (size_t(dtype) >= kDtypes.size())
    throw Error("safetensors: Dtype value " + std::to_string(unsigned(dtype)) + " is not a Dtype",
                "use one of the named vkgrad::io::Dtype values");
  return kDtypes[size_t(dtype)];
}

std::optional<Dtype> dtype_from_name(std::string_view name) {
  for (const DtypeInfo& d : kDtypes)
    if (d.name == name) return d.dtype;
  return std::nullopt;
}

std::string dtype_list() {
  std::string list;
  for (const DtypeInfo& d : kDtypes) list += (list.empty() ? "" : ", ") + std::string(d.name);
  return list;
}

// Names come from files: cut long ones so that a hostile header cannot make a megabyte message.
std::string shown(std::string_view name) {
  constexpr size_t kMax = 80;
  if (name.size() <= kMax) return "'" + std::string(name) + "'";
  return "'" + std::string(name.substr(0, kMax)) + "...' (" + std::to_string(name.size()) + " bytes)";
}

// A JSON value in a message, without dump(): integers as they are, anything else by type.
std::string describe(const json& v) {
  if (v.is_number_unsigned()) return std::to_string(v.get<uint64_t>());
  if (v.is_number_integer()) return std::to_string(v.get<int64_t>());
  if (v.is_array()) return "a JSON array of " + std::to_string(v.size()) + (v.size() == 1 ? " element" : " elements");
  return std::string("a JSON ") + v.type_name();
}

std::string dims_text(const std::vector<uint64_t>& dims) {
  std::string s = "[";
  for (const uint64_t d : dims) s += (s.size() > 1 ? ", " : "") + std::to_string(d);
  return s + "]";
}

std::optional<uint64_t> checked_mul(uint64_t a, uint64_t b) {
  if (b != 0 && a > std::numeric_limits<uint64_t>::max() / b) return std::nullopt;
  return a * b;
}

// Loading: every check in one place, each failure naming the file.
class Reader {
public:
  explicit Reader(const std::string& source) : prefix_("safetensors file '" + source + "': ") {}

  [[noreturn]] void fail(const std::string& what, const std::string& hint = kDamaged) const {
    throw Error(prefix_ + what, hint);
  }

  // nlohmann keeps the last of duplicate keys; the callback sees every key, so duplicates show.
  json parse_header(std::string_view text) const {
    std::vector<std::set<std::string>> open_objects;
    std::string entry;  // the top-level key being read
    const json::parser_callback_t callback = [&](int, json::parse_event_t event, json& parsed) {
      if (event == json::parse_event_t::object_start) {
        open_objects.emplace_back();
      } else if (event == json::parse_event_t::object_end) {
        open_objects.pop_back();
      } else if (event == json::parse_event_t::key) {
        const auto& key = parsed.get_ref<const std::string&>();
        if (open_objects.size() == 1) entry = key;
        if (!open_objects.back().insert(key).second) {
          if (open_objects.size() == 1) fail("the header lists tensor " + shown(key) + " twice");
          fail("header entry " + shown(entry) + " has the key " + shown(key) + " twice");
        }
      }
      return true;
    };
    try {
      return json::parse(text.begin(), text.end(), callback);
    } catch (const json::exception& e) {
      // nlohmann quotes the last token, which can be most of a hostile header.
      std::string detail = e.what();
      if (detail.size() > 200) detail = detail.substr(0, 200) + "...";
      fail("the header is not valid JSON (" + detail + ")");
    }
  }

  std::map<std::string, std::string> metadata(const json& value) const {
    if (!value.is_object())
      fail(std::string("\"__metadata__\" is a JSON ") + value.type_name() + ", not an object of strings");
    std::map<std::string, std::string> out;
    for (const auto& [key, v] : value.items()) {
      if (!v.is_string())
        fail("\"__metadata__\" value " + shown(key) + " is a JSON " + v.type_name() + ", not a string",
             "safetensors metadata maps strings to strings: store numbers as text");
      out.emplace(key, v.get<std::string>());
    }
    return out;
  }

  // One tensor entry; `data` is the whole data section, the entry's range is checked against it.
  TensorView entry(const std::string& name, const json& value, std::span<const std::byte> data) const {
    const std::string tensor = "tensor " + shown(name);
    if (!value.is_object())
      fail(tensor + " is a JSON " + value.type_name() + ", not an object with dtype, shape and data_offsets");
    for (const auto& [key, v] : value.items())
      if (key != "dtype" && key != "shape" && key != "data_offsets")
        fail(tensor + " has an unexpected field " + shown(key), "entries have exactly dtype, shape and data_offsets");
    for (const char* key : {"dtype", "shape", "data_offsets"})
      if (!value.contains(key)) fail(tensor + " has no \"" + key + "\"");

    TensorView view;
    view.name = name;
    const json& dtype = value["dtype"];
    if (!dtype.is_string()) fail(tensor + ": dtype is a JSON " + dtype.type_name() + ", not a string");
    const auto& dtype_text = dtype.get_ref<const std::string&>();
    if (const auto d = dtype_from_name(dtype_text)) {
      view.dtype = *d;
    } else if (std::find(kForeignDtypes.begin(), kForeignDtypes.end(), dtype_text) != kForeignDtypes.end()) {
      fail(tensor + " has dtype " + dtype_text + ", which vkgrad does not read",
           "convert it to one of " + dtype_list() + " before saving");
    } else {
      fail(tensor + " has unknown dtype " + shown(dtype_text), "safetensors dtypes vkgrad reads: " + dtype_list());
    }

    const json& shape = value["shape"];
    if (!shape.is_array()) fail(tensor + ": shape is a JSON " + shape.type_name() + ", not a list of integers");
    // Messages never dump() header values: dumping recurses, and a hostile header nests deep.
    for (size_t i = 0; i < shape.size(); ++i) {
      if (!shape[i].is_number_unsigned())
        fail(tensor + ": shape is not a list of non-negative integers (element " + std::to_string(i) + " is " +
             describe(shape[i]) + ")");
      view.shape.push_back(shape[i].get<uint64_t>());
    }
    const std::string shape_text = dims_text(view.shape);
    uint64_t elements = 1;
    for (const uint64_t d : view.shape) {
      const auto product = checked_mul(elements, d);
      if (!product) fail(tensor + ": shape " + shape_text + " has more than 2^64 elements");
      elements = *product;
    }

    const json& offsets = value["data_offsets"];
    if (!offsets.is_array() || offsets.size() != 2 || !offsets[0].is_number_unsigned() ||
        !offsets[1].is_number_unsigned())
      fail(tensor + ": data_offsets is " + describe(offsets) + ", not two non-negative integers [begin, end]");
    const uint64_t begin = offsets[0].get<uint64_t>(), end = offsets[1].get<uint64_t>();
    const std::string range = "[" + std::to_string(begin) + ", " + std::to_string(end) + "]";
    if (begin > end) fail(tensor + ": data_offsets " + range + " ends before it begins");
    if (end > data.size())
      fail(tensor + ": data_offsets " + range + " reach past the data section (" + std::to_string(data.size()) +
               " bytes)",
           "the file is truncated: save or download it again");
    const auto bytes = checked_mul(elements, dtype_size(view.dtype));
    if (!bytes || *bytes != end - begin)
      fail(tensor + ": shape " + shape_text + " of " + dtype_text + " needs " +
           (bytes ? std::to_string(*bytes) : std::string("more than 2^64")) + " bytes, data_offsets " + range +
           " hold " + std::to_string(end - begin));
    view.data = data.subspan(size_t(begin), size_t(end - begin));
    return view;
  }

  // Empty tensors occupy no bytes, so they overlap nothing.
  void check_no_overlap(const std::map<std::string, TensorView>& tensors, const std::byte* data) const {
    struct Range {
      size_t begin, end;
      const std::string* name;
    };
    std::vector<Range> ranges;
    for (const auto& [name, t] : tensors) {
      const auto begin = size_t(t.data.data() - data);
      if (!t.data.empty()) ranges.push_back({begin, begin + t.data.size(), &name});
    }
    std::sort(ranges.begin(), ranges.end(), [](const Range& a, const Range& b) { return a.begin < b.begin; });
    const Range* furthest = nullptr;  // of the ranges so far, the one ending last
    for (const Range& r : ranges) {
      if (furthest && r.begin < furthest->end)
        fail("tensors " + shown(*furthest->name) + " [" + std::to_string(furthest->begin) + ", " +
             std::to_string(furthest->end) + ") and " + shown(*r.name) + " [" + std::to_string(r.begin) + ", " +
             std::to_string(r.end) + ") overlap in the data section");
      if (!furthest || r.end > furthest->end) furthest = &r;
    }
  }

private:
  std::string prefix_;
};

std::string hex64(uint64_t v) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s(16, '0');
  for (size_t i = 16; i-- > 0; v >>= 4) s[i] = kDigits[v & 0xf];
  return s;
}

// Unique enough that two writers never collide; the leading dot keeps it out of plain listings.
std::filesystem::path temp_path_for(const std::filesystem::path& path) {
  std::random_device random;
  const uint64_t salt = (uint64_t(random()) << 32) ^ uint64_t(random()) ^
                        uint64_t(std::chrono::steady_clock::now().time_since_epoch().count());
  std::filesystem::path name = path.filename();
  name += ".tmp-" + hex64(salt);
  return path.parent_path() / ("." + detail::utf8(name));
}

struct SaveFailure {
  const std::string& target;
  [[noreturn]] void operator()(const std::string& what, const std::string& hint) const {
    throw Error("cannot save safetensors file " + target + ": " + what, hint);
  }
};

std::string json_string(const std::string& text, const std::string& what, const std::string& target) {
  try {
    return json(text).dump();
  } catch (const json::exception&) {
    throw Error("cannot save safetensors file " + target + ": " + what + " is not valid UTF-8",
                "safetensors headers are JSON: use UTF-8 names and metadata");
  }
}

}  // namespace

size_t dtype_size(Dtype dtype) { return info(dtype).size; }
std::string_view dtype_name(Dtype dtype) { return info(dtype).name; }

SafetensorsFile SafetensorsFile::load(const std::filesystem::path& path) {
  return parse(detail::read_whole_file(path, "safetensors file"), detail::utf8(path));
}

SafetensorsFile SafetensorsFile::parse(std::vector<std::byte> bytes, std::string source_name) {
  const Reader reader(source_name);
  if (bytes.size() < 8)
    reader.fail("it has " + std::to_string(bytes.size()) + " bytes, fewer than the 8 of the header length");
  const uint64_t header_bytes = detail::load_le<uint64_t>(bytes.data());
  if (header_bytes > kMaxHeaderBytes)
    reader.fail("the header length " + std::to_string(header_bytes) + " is absurd (more than " +
                std::to_string(kMaxHeaderBytes) + " bytes)");
  if (header_bytes > bytes.size() - 8)
    reader.fail("the header length " + std::to_string(header_bytes) + " is larger than the " +
                    std::to_string(bytes.size() - 8) + " bytes after it",
                "the file is truncated or not a safetensors file: save or download it again");

  const std::string_view text(reinterpret_cast<const char*>(bytes.data()) + 8, size_t(header_bytes));
  const json header = reader.parse_header(text);
  if (!header.is_object()) reader.fail(std::string("the header is a JSON ") + header.type_name() + ", not an object");

  SafetensorsFile file;
  file.source_ = std::move(source_name);
  const std::span<const std::byte> data = std::span<const std::byte>(bytes).subspan(8 + size_t(header_bytes));
  for (const auto& [name, value] : header.items()) {
    if (name == kMetadataKey)
      file.metadata_ = reader.metadata(value);
    else
      file.tensors_.emplace(name, reader.entry(name, value, data));
  }
  reader.check_no_overlap(file.tensors_, data.data());
  // Moving a vector keeps its buffer, so the views stay valid.
  file.bytes_ = std::move(bytes);
  return file;
}

std::vector<std::string> SafetensorsFile::names() const {
  std::vector<std::string> out;
  out.reserve(tensors_.size());
  for (const auto& [name, t] : tensors_) out.push_back(name);
  return out;
}

bool SafetensorsFile::contains(const std::string& name) const { return tensors_.count(name) != 0; }

const TensorView& SafetensorsFile::tensor(const std::string& name) const {
  if (const auto it = tensors_.find(name); it != tensors_.end()) return it->second;
  std::string hint;
  if (tensors_.empty()) {
    hint = "it holds no tensors";
  } else {
    constexpr size_t kListed = 5;
    size_t listed = 0;
    for (auto it = tensors_.begin(); it != tensors_.end() && listed < kListed; ++it, ++listed)
      hint += (listed ? ", " : "it holds ") + shown(it->first);
    if (tensors_.size() > kListed) hint += " and " + std::to_string(tensors_.size() - kListed) + " more (see names())";
  }
  throw Error("safetensors file '" + source_ + "' has no tensor " + shown(name), hint);
}

std::vector<float> SafetensorsFile::to_f32(const std::string& name) const {
  const TensorView& t = tensor(name);
  (void)info(t.dtype);  // a valid Dtype
  return detail::elements_to_f32(t.dtype, t.data);
}

std::vector<int64_t> SafetensorsFile::to_i64(const std::string& name) const {
  const TensorView& t = tensor(name);
  auto v = detail::elements_to_i64(info(t.dtype).dtype, t.data);
  if (!v)
    throw Error("safetensors file '" + source_ + "': tensor " + shown(name) + " is " +
                    std::string(dtype_name(t.dtype)) + ", not an integer type",
                "read floating-point tensors with to_f32");
  return std::move(*v);
}

void save_safetensors(const std::filesystem::path& path, std::span<const TensorToWrite> tensors,
                      const std::map<std::string, std::string>& metadata) {
  const std::string target = detail::quoted(path);
  const SaveFailure fail{target};
  if (!path.has_filename()) fail("the path names no file", "give a file name, e.g. model.safetensors");

  // Checked in full before the first byte is written.
  std::vector<const TensorToWrite*> order;
  for (const TensorToWrite& t : tensors) order.push_back(&t);
  std::sort(order.begin(), order.end(),
            [](const TensorToWrite* a, const TensorToWrite* b) { return a->name < b->name; });
  std::string header = "{";
  if (!metadata.empty()) {
    header += "\"__metadata__\":{";
    for (const auto& [key, value] : metadata) {
      if (header.back() != '{') header += ',';
      header += json_string(key, "metadata key " + shown(key), target) + ":" +
                json_string(value, "the metadata value of " + shown(key), target);
    }
    header += "}";
  }
  uint64_t offset = 0;
  for (size_t i = 0; i < order.size(); ++i) {
    const TensorToWrite& t = *order[i];
    if (i > 0 && order[i - 1]->name == t.name)
      fail("two tensors are named " + shown(t.name), "give every tensor its own name");
    if (t.name == kMetadataKey)
      fail("\"__metadata__\" is reserved, not a tensor name", "pass metadata as the metadata map");
    if (size_t(t.dtype) >= kDtypes.size())
      fail("tensor " + shown(t.name) + " has Dtype value " + std::to_string(unsigned(t.dtype)) + ", not a Dtype",
           "use one of the named vkgrad::io::Dtype values");
    const size_t size = info(t.dtype).size;
    std::optional<uint64_t> bytes = size;
    for (const uint64_t d : t.shape)
      if (bytes) bytes = checked_mul(*bytes, d);
    if (!bytes || *bytes != t.data.size())
      fail("tensor " + shown(t.name) + " has " + std::to_string(t.data.size()) + " bytes of data, its shape of " +
               std::string(dtype_name(t.dtype)) + " needs " +
               (bytes ? std::to_string(*bytes) : std::string("more than 2^64")),
           "pass exactly product(shape) × dtype_size(dtype) bytes");
    if (header.back() != '{') header += ',';
    std::string shape;
    for (const uint64_t d : t.shape) shape += (shape.empty() ? "" : ",") + std::to_string(d);
    header += json_string(t.name, "tensor name " + shown(t.name), target) + ":{\"dtype\":\"" +
              std::string(dtype_name(t.dtype)) + "\",\"shape\":[" + shape + "],\"data_offsets\":[" +
              std::to_string(offset) + "," + std::to_string(offset + t.data.size()) + "]}";
    offset += t.data.size();
  }
  header += "}";
  header.append((8 - header.size() % 8) % 8, ' ');  // as the reference does: data starts 8-aligned

  const std::filesystem::path folder = path.parent_path();
  std::error_code ec;
  if (!folder.empty() && !std::filesystem::is_directory(folder, ec))
    fail("the folder " + detail::quoted(folder) + " does not exist", "create it first, or save somewhere else");

  const std::filesystem::path temp = temp_path_for(path);
  try {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    if (!out) fail("cannot create the temporary file " + detail::quoted(temp), "check that the folder is writable");
    std::array<char, 8> length;
    for (size_t i = 0; i < 8; ++i) length[i] = char((uint64_t(header.size()) >> (8 * i)) & 0xff);
    out.write(length.data(), 8);
    out.write(header.data(), std::streamsize(header.size()));
    for (const TensorToWrite* t : order)
      out.write(reinterpret_cast<const char*>(t->data.data()), std::streamsize(t->data.size()));
    out.close();
    if (!out)
      fail("writing the temporary file " + detail::quoted(temp) + " failed",
           "the disk may be full: free space and save again");
    detail::sync_file(temp);
    std::filesystem::rename(temp, path, ec);
    if (ec)
      fail("renaming " + detail::quoted(temp) + " over it failed: " + ec.message(),
           "check that the path is not a folder and that the folder is writable");
  } catch (...) {
    std::filesystem::remove(temp, ec);  // best effort: the error being thrown matters more
    throw;
  }
  detail::sync_folder(folder);
}

}  // namespace vkgrad::io
