// safetensors: round trips, files from and for Python's safetensors, every kind of damaged
// file, and saves that fail or are killed half-way. No device needed.
#include "io_test_util.hpp"
#include "paths.hpp"
#include "vkgrad/error.hpp"
#include "vkgrad/io/safetensors.hpp"

#include <gtest/gtest.h>

#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bit>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <thread>

namespace vkgrad::test {
namespace {

using io::Dtype;
using io::SafetensorsFile;
using io::TensorToWrite;

const std::string kPython = build_path("VKGRAD_PYTHON", "/usr/bin/python3");

// An 8-byte little-endian length, then the header, then the data.
std::vector<std::byte> make_file(std::string_view header, size_t data_bytes = 0) {
  std::vector<std::byte> file(8);
  for (size_t i = 0; i < 8; ++i) file[i] = std::byte((uint64_t(header.size()) >> (8 * i)) & 0xff);
  const std::vector<std::byte> h = to_bytes(header);
  file.insert(file.end(), h.begin(), h.end());
  file.resize(file.size() + data_bytes, std::byte{0x5a});
  return file;
}

std::string parse_error(std::vector<std::byte> bytes) {
  return error_of([&] { SafetensorsFile::parse(std::move(bytes), "bad.safetensors"); });
}
std::string parse_error(std::string_view header, size_t data_bytes) {
  return parse_error(make_file(header, data_bytes));
}

template <class T>
std::vector<std::byte> raw(std::initializer_list<T> values) {
  std::vector<std::byte> out(values.size() * sizeof(T));
  std::memcpy(out.data(), std::data(values), out.size());
  return out;
}

// One tensor of every dtype, with values at the edges of each type.
struct Sample {
  std::string name;
  Dtype dtype;
  std::vector<uint64_t> shape;
  std::vector<std::byte> data;
  std::vector<float> as_f32;
};

std::vector<Sample> every_dtype() {
  const float inf = std::numeric_limits<float>::infinity();
  return {
      {"f64", Dtype::F64, {3}, raw<double>({1.5, -2.25, 1e300}), {1.5f, -2.25f, inf}},
      {"f32", Dtype::F32, {2, 2}, raw<float>({0.5f, -1.0f, 3.25f, 1e-40f}), {0.5f, -1.0f, 3.25f, 1e-40f}},
      // 1, -2, 0.5, 65504 (max), 2^-24 (smallest subnormal), -inf
      {"f16", Dtype::F16, {6}, raw<uint16_t>({0x3c00, 0xc000, 0x3800, 0x7bff, 0x0001, 0xfc00}),
       {1.0f, -2.0f, 0.5f, 65504.0f, std::ldexp(1.0f, -24), -inf}},
      {"bf16", Dtype::BF16, {2}, raw<uint16_t>({0x3f80, 0xc040}), {1.0f, -3.0f}},
      {"i64", Dtype::I64, {2}, raw<int64_t>({-5, int64_t(1) << 40}), {-5.0f, std::ldexp(1.0f, 40)}},
      {"i32", Dtype::I32, {2}, raw<int32_t>({-7, 100000}), {-7.0f, 100000.0f}},
      {"i16", Dtype::I16, {2}, raw<int16_t>({-300, 300}), {-300.0f, 300.0f}},
      {"i8", Dtype::I8, {2}, raw<int8_t>({-128, 127}), {-128.0f, 127.0f}},
      {"u8", Dtype::U8, {1, 2}, raw<uint8_t>({0, 255}), {0.0f, 255.0f}},
      {"flag", Dtype::Bool, {3}, raw<uint8_t>({0, 1, 1}), {0.0f, 1.0f, 1.0f}},
      {"scalar", Dtype::F32, {}, raw<float>({7.0f}), {7.0f}},
      {"empty", Dtype::F32, {2, 0}, {}, {}},
  };
}

// Views of `samples`, which must outlive them.
std::vector<TensorToWrite> to_write(const std::vector<Sample>& samples) {
  std::vector<TensorToWrite> out;
  for (const Sample& s : samples) out.push_back({s.name, s.dtype, s.shape, s.data});
  return out;
}

bool python_has_safetensors() {
  static const bool ok =
      std::system((kPython + " -c 'import safetensors.numpy, numpy' >/dev/null 2>&1").c_str()) == 0;
  return ok;
}

// Runs a Python script with `dir` as its argument; returns its exit status.
int run_python(const TempDir& dir, const std::string& script) {
  const auto path = dir / "script.py";
  write_bytes(path, to_bytes(script));
  return std::system((kPython + " '" + path.string() + "' '" + dir.path().string() + "'").c_str());
}

TEST(Safetensors, DtypeNamesAndSizes) {
  EXPECT_EQ(io::dtype_name(Dtype::BF16), "BF16");
  EXPECT_EQ(io::dtype_name(Dtype::Bool), "BOOL");
  EXPECT_EQ(io::dtype_size(Dtype::F64), 8u);
  EXPECT_EQ(io::dtype_size(Dtype::F16), 2u);
  EXPECT_EQ(io::dtype_size(Dtype::Bool), 1u);
}

TEST(Safetensors, RoundTripEveryDtypeAndMetadata) {
  TempDir dir;
  const std::vector<Sample> samples = every_dtype();
  const std::map<std::string, std::string> metadata = {{"format", "pt"}, {"note", "héllo \"quoted\"\n"}};
  io::save_safetensors(dir / "m.safetensors", to_write(samples), metadata);
  const SafetensorsFile file = SafetensorsFile::load(dir / "m.safetensors");

  EXPECT_EQ(file.metadata(), metadata);
  std::vector<std::string> names;
  for (const Sample& s : samples) names.push_back(s.name);
  std::sort(names.begin(), names.end());
  EXPECT_EQ(file.names(), names);
  for (const Sample& s : samples) {
    SCOPED_TRACE(s.name);
    ASSERT_TRUE(file.contains(s.name));
    const io::TensorView& t = file.tensor(s.name);
    EXPECT_EQ(t.name, s.name);
    EXPECT_EQ(t.dtype, s.dtype);
    EXPECT_EQ(t.shape, s.shape);
    EXPECT_TRUE(std::equal(t.data.begin(), t.data.end(), s.data.begin(), s.data.end()));
    EXPECT_EQ(file.to_f32(s.name), s.as_f32);
  }
  EXPECT_EQ(file.to_i64("i64"), (std::vector<int64_t>{-5, int64_t(1) << 40}));
  EXPECT_EQ(file.to_i64("i8"), (std::vector<int64_t>{-128, 127}));
  EXPECT_EQ(file.to_i64("u8"), (std::vector<int64_t>{0, 255}));
  EXPECT_EQ(file.to_i64("flag"), (std::vector<int64_t>{0, 1, 1}));
  EXPECT_TRUE(mentions(error_of([&] { file.to_i64("f32"); }), {"'f32'", "F32", "not an integer type", "to_f32"}));
}

TEST(Safetensors, ViewsSurviveAMove) {
  TempDir dir;
  const std::vector<float> values = {1, 2, 3};
  const std::vector<TensorToWrite> tensors = {{"w", Dtype::F32, {3}, bytes_of(values)}};
  io::save_safetensors(dir / "m.safetensors", tensors);
  SafetensorsFile first = SafetensorsFile::load(dir / "m.safetensors");
  const SafetensorsFile moved = std::move(first);
  EXPECT_EQ(moved.to_f32("w"), values);
}

TEST(Safetensors, OutputIsDeterministicAndPadded) {
  TempDir dir;
  const std::vector<Sample> samples = every_dtype();
  std::vector<TensorToWrite> tensors = to_write(samples);
  io::save_safetensors(dir / "a.safetensors", tensors, {{"k", "v"}});
  std::reverse(tensors.begin(), tensors.end());
  io::save_safetensors(dir / "b.safetensors", tensors, {{"k", "v"}});
  const std::vector<std::byte> a = read_bytes(dir / "a.safetensors");
  EXPECT_EQ(a, read_bytes(dir / "b.safetensors"));

  uint64_t header = 0;
  std::memcpy(&header, a.data(), 8);
  EXPECT_EQ(header % 8, 0u);
  const std::string text(reinterpret_cast<const char*>(a.data()) + 8, size_t(header));
  EXPECT_EQ(text.find_last_not_of(' '), text.rfind('}'));
  // Name order: "bf16" is first, "u8" last.
  EXPECT_NE(text.find("\"bf16\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[0,4]}"), std::string::npos) << text;
  // The last in name order ends the data section and the header.
  const uint64_t data_bytes = a.size() - 8 - header;
  const std::string last = "\"u8\":{\"dtype\":\"U8\",\"shape\":[1,2],\"data_offsets\":[" +
                           std::to_string(data_bytes - 2) + "," + std::to_string(data_bytes) + "]}}";
  EXPECT_TRUE(text.substr(0, text.rfind('}') + 1).ends_with(last)) << text;
}

TEST(Safetensors, EmptyFileHasNoTensors) {
  TempDir dir;
  io::save_safetensors(dir / "e.safetensors", {});
  EXPECT_EQ(read_bytes(dir / "e.safetensors"), make_file("{}      "));
  const SafetensorsFile file = SafetensorsFile::load(dir / "e.safetensors");
  EXPECT_TRUE(file.names().empty());
  EXPECT_TRUE(mentions(error_of([&] { file.tensor("w"); }), {"e.safetensors", "no tensor 'w'", "holds no tensors"}));
}

TEST(Safetensors, MissingTensorListsSomeNames) {
  TempDir dir;
  const std::vector<Sample> samples = every_dtype();
  io::save_safetensors(dir / "m.safetensors", to_write(samples));
  const SafetensorsFile file = SafetensorsFile::load(dir / "m.safetensors");
  EXPECT_TRUE(mentions(error_of([&] { file.tensor("weight"); }),
                       {"m.safetensors", "no tensor 'weight'", "'bf16', 'empty'", "and 7 more"}));
}

TEST(Safetensors, ReadsAFileWrittenByPython) {
  // The toolchain tools/dev builds has them; a host toolchain must install them too.
  ASSERT_TRUE(python_has_safetensors()) << kPython << " with safetensors and numpy is not installed (Debian: python3-safetensors python3-numpy)";
  TempDir dir;
  ASSERT_EQ(run_python(dir, R"(
import sys, numpy as np
from safetensors.numpy import save_file
save_file({
    "f64": np.array([[1.5, -2.25, 3.0]], dtype=np.float64),
    "f32": np.arange(6, dtype=np.float32).reshape(2, 3) * 0.5 - 1,
    "f16": np.array([1.0, -2.0, 0.5, 65504.0, 6e-08], dtype=np.float16),
    "i64": np.array([-5, 1 << 40], dtype=np.int64),
    "i32": np.array([-7, 100000], dtype=np.int32),
    "i16": np.array([-300, 300], dtype=np.int16),
    "i8": np.array([-128, 127], dtype=np.int8),
    "u8": np.array([[0], [255]], dtype=np.uint8),
    "flag": np.array([True, False, True]),
    "scalar": np.array(7.0, dtype=np.float32),
    "empty": np.zeros((2, 0), dtype=np.float32),
}, sys.argv[1] + "/py.safetensors", metadata={"format": "np", "note": "written by python"})
)"),
            0);
  const SafetensorsFile file = SafetensorsFile::load(dir / "py.safetensors");
  EXPECT_EQ(file.metadata(), (std::map<std::string, std::string>{{"format", "np"}, {"note", "written by python"}}));
  EXPECT_EQ(file.names(), (std::vector<std::string>{"empty", "f16", "f32", "f64", "flag", "i16", "i32", "i64", "i8",
                                                    "scalar", "u8"}));
  const auto expect = [&](const std::string& name, Dtype dtype, std::vector<uint64_t> shape,
                          std::vector<float> values) {
    SCOPED_TRACE(name);
    EXPECT_EQ(file.tensor(name).dtype, dtype);
    EXPECT_EQ(file.tensor(name).shape, shape);
    EXPECT_EQ(file.to_f32(name), values);
  };
  expect("f64", Dtype::F64, {1, 3}, {1.5f, -2.25f, 3.0f});
  expect("f32", Dtype::F32, {2, 3}, {-1.0f, -0.5f, 0.0f, 0.5f, 1.0f, 1.5f});
  expect("f16", Dtype::F16, {5}, {1.0f, -2.0f, 0.5f, 65504.0f, std::ldexp(1.0f, -24)});
  expect("i64", Dtype::I64, {2}, {-5.0f, std::ldexp(1.0f, 40)});
  expect("i32", Dtype::I32, {2}, {-7.0f, 100000.0f});
  expect("i16", Dtype::I16, {2}, {-300.0f, 300.0f});
  expect("i8", Dtype::I8, {2}, {-128.0f, 127.0f});
  expect("u8", Dtype::U8, {2, 1}, {0.0f, 255.0f});
  expect("flag", Dtype::Bool, {3}, {1.0f, 0.0f, 1.0f});
  expect("scalar", Dtype::F32, {}, {7.0f});
  expect("empty", Dtype::F32, {2, 0}, {});
  EXPECT_EQ(file.to_i64("i64"), (std::vector<int64_t>{-5, int64_t(1) << 40}));
}

TEST(Safetensors, PythonReadsAFileWeWrote) {
  // The toolchain tools/dev builds has them; a host toolchain must install them too.
  ASSERT_TRUE(python_has_safetensors()) << kPython << " with safetensors and numpy is not installed (Debian: python3-safetensors python3-numpy)";
  TempDir dir;
  const std::vector<Sample> samples = every_dtype();
  io::save_safetensors(dir / "ours.safetensors", to_write(samples), {{"format", "pt"}, {"epoch", "3"}});
  // deserialize runs the reference's own checks and hands back raw bytes, BF16 included;
  // load_file checks values through numpy for the dtypes numpy has.
  EXPECT_EQ(run_python(dir, R"(
import sys, numpy as np
from safetensors import deserialize, safe_open
from safetensors.numpy import load_file, save_file
path = sys.argv[1] + "/ours.safetensors"
expected = {
    "f64": np.array([1.5, -2.25, 1e300]),
    "f32": np.array([[0.5, -1.0], [3.25, 1e-40]], dtype=np.float32),
    "f16": np.array([1.0, -2.0, 0.5, 65504.0, 2.0 ** -24, -np.inf], dtype=np.float16),
    "i64": np.array([-5, 1 << 40], dtype=np.int64),
    "i32": np.array([-7, 100000], dtype=np.int32),
    "i16": np.array([-300, 300], dtype=np.int16),
    "i8": np.array([-128, 127], dtype=np.int8),
    "u8": np.array([[0, 255]], dtype=np.uint8),
    "flag": np.array([False, True, True]),
    "scalar": np.array(7.0, dtype=np.float32),
    "empty": np.zeros((2, 0), dtype=np.float32),
}
raw = {name: t for name, t in deserialize(open(path, "rb").read())}
assert sorted(raw) == sorted(list(expected) + ["bf16"]), sorted(raw)
assert raw["bf16"]["dtype"] == "BF16" and raw["bf16"]["shape"] == [2], raw["bf16"]
assert bytes(raw["bf16"]["data"]) == bytes([0x80, 0x3f, 0x40, 0xc0]), raw["bf16"]
for name, want in expected.items():
    assert raw[name]["shape"] == list(want.shape), (name, raw[name]["shape"])
    assert bytes(raw[name]["data"]) == want.tobytes(), name
with safe_open(path, "np") as f:
    assert f.metadata() == {"format": "pt", "epoch": "3"}, f.metadata()
    for name, want in expected.items():
        got = f.get_tensor(name)
        assert got.dtype == want.dtype and np.array_equal(got, want), (name, got, want)
print("python read", len(raw), "tensors")
)"),
            0);
}

// --- damaged files: each names the file and the problem -------------------------------------

constexpr const char* kGood = R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";

TEST(Safetensors, GoodBaseline) { EXPECT_EQ(parse_error(kGood, 8), "(no error)"); }

TEST(Safetensors, RejectsShortFileAndBadHeaderLength) {
  EXPECT_TRUE(mentions(parse_error(to_bytes("abc")), {"bad.safetensors", "3 bytes", "fewer than the 8"}));
  std::vector<std::byte> longer = make_file(kGood, 8);
  longer[0] = std::byte{0xff};  // header length 255 + 256 × ..., beyond the file
  EXPECT_TRUE(mentions(parse_error(longer), {"bad.safetensors", "header length", "larger than the"}));
  std::vector<std::byte> absurd = make_file(kGood, 8);
  absurd[7] = std::byte{0x01};  // 2^56 + ...
  EXPECT_TRUE(mentions(parse_error(absurd), {"bad.safetensors", "is absurd"}));
  std::vector<std::byte> truncated = make_file(kGood, 8);
  truncated.resize(20);
  const std::string expected = "header length " + std::to_string(std::string_view(kGood).size()) +
                               " is larger than the 12 bytes after it";
  EXPECT_TRUE(mentions(parse_error(truncated), {expected, "truncated"}));
}

TEST(Safetensors, RejectsHeadersThatAreNotJsonObjects) {
  EXPECT_TRUE(mentions(parse_error("{\"w\":", 0), {"bad.safetensors", "not valid JSON"}));
  EXPECT_TRUE(mentions(parse_error("", 0), {"not valid JSON"}));
  EXPECT_TRUE(mentions(parse_error("[1, 2]", 0), {"the header is a JSON array, not an object"}));
  EXPECT_TRUE(mentions(parse_error("{\"w\": 1} x", 0), {"not valid JSON"}));
  EXPECT_TRUE(mentions(parse_error("{\"\xff\": 1}", 0), {"not valid JSON"}));  // not UTF-8
}

TEST(Safetensors, HostileHeadersGiveShortMessagesAndNoRecursion) {
  // One long unterminated string: the parser's message quotes it, ours cuts it.
  const std::string unterminated = "{\"" + std::string(1 << 20, 'x');
  const std::string msg = parse_error(unterminated, 0);
  EXPECT_TRUE(mentions(msg, {"not valid JSON"}));
  EXPECT_LT(msg.size(), 600u);
  // Deep nesting must not overflow the stack when parsed or destroyed.
  const size_t depth = 100000;
  EXPECT_TRUE(mentions(parse_error(std::string(depth, '[') + std::string(depth, ']'), 0), {"a JSON array"}));
  std::string objects;
  for (size_t i = 0; i < depth; ++i) objects += "{\"a\":";
  objects += "1" + std::string(depth, '}');
  EXPECT_TRUE(mentions(parse_error(objects, 0), {"tensor 'a' has an unexpected field 'a'"}));
  // Nor when a message describes a deeply nested field.
  const std::string deep = std::string(depth, '[') + std::string(depth, ']');
  EXPECT_TRUE(mentions(parse_error(R"({"w":{"dtype":"F32","shape":)" + deep + R"(,"data_offsets":[0,0]}})", 0),
                       {"element 0 is a JSON array of 1 element"}));
  EXPECT_TRUE(mentions(parse_error(R"({"w":{"dtype":"F32","shape":[],"data_offsets":)" + deep + "}}", 0),
                       {"data_offsets is a JSON array of 1 element"}));
}

TEST(Safetensors, RejectsMalformedEntries) {
  EXPECT_TRUE(mentions(parse_error(R"({"w": [1]})", 0), {"tensor 'w' is a JSON array, not an object"}));
  EXPECT_TRUE(mentions(parse_error(R"({"w":{"dtype":"F32","shape":[2]}})", 8), {"tensor 'w' has no \"data_offsets\""}));
  EXPECT_TRUE(mentions(parse_error(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"x":1}})", 8),
                       {"tensor 'w' has an unexpected field 'x'"}));
  EXPECT_TRUE(mentions(parse_error(R"({"w":{"dtype":"F33","shape":[2],"data_offsets":[0,8]}})", 8),
                       {"tensor 'w' has unknown dtype 'F33'", "F64, F32, F16, BF16"}));
  EXPECT_TRUE(mentions(parse_error(R"({"w":{"dtype":"U16","shape":[4],"data_offsets":[0,8]}})", 8),
                       {"tensor 'w' has dtype U16, which vkgrad does not read"}));
  EXPECT_TRUE(mentions(parse_error(R"({"w":{"dtype":3,"shape":[2],"data_offsets":[0,8]}})", 8),
                       {"tensor 'w': dtype is a JSON number, not a string"}));
}

TEST(Safetensors, RejectsBadShapes) {
  EXPECT_TRUE(mentions(parse_error(R"({"w":{"dtype":"F32","shape":2,"data_offsets":[0,8]}})", 8),
                       {"tensor 'w': shape is a JSON number, not a list of integers"}));
  EXPECT_TRUE(mentions(parse_error(R"({"w":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", 8),
                       {"tensor 'w': shape is not a list of non-negative integers (element 0 is -2)"}));
  EXPECT_TRUE(mentions(parse_error(R"({"w":{"dtype":"F32","shape":[2.0],"data_offsets":[0,8]}})", 8),
                       {"is not a list of non-negative integers (element 0 is a JSON number)"}));
  EXPECT_TRUE(mentions(parse_error(R"({"w":{"dtype":"F32","shape":[1,"2"],"data_offsets":[0,8]}})", 8),
                       {"is not a list of non-negative integers (element 1 is a JSON string)"}));
  EXPECT_TRUE(mentions(
      parse_error(R"({"w":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}})", 8),
      {"more than 2^64 elements"}));
  EXPECT_TRUE(mentions(parse_error(R"({"w":{"dtype":"F32","shape":[4611686018427387904],"data_offsets":[0,8]}})", 8),
                       {"needs more than 2^64 bytes"}));
}

TEST(Safetensors, RejectsBadDataOffsets) {
  EXPECT_TRUE(mentions(parse_error(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0]}})", 8),
                       {"data_offsets is a JSON array of 1 element, not two non-negative integers"}));
  EXPECT_TRUE(mentions(parse_error(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,-8]}})", 8),
                       {"data_offsets is a JSON array of 2 elements, not two"}));
  EXPECT_TRUE(mentions(parse_error(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":"0-8"}})", 8),
                       {"data_offsets is a JSON string, not two"}));
  EXPECT_TRUE(mentions(parse_error(R"({"w":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}})", 8),
                       {"data_offsets [8, 0] ends before it begins"}));
  EXPECT_TRUE(mentions(parse_error(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})", 8),
                       {"data_offsets [4, 12] reach past the data section (8 bytes)", "truncated"}));
  EXPECT_TRUE(mentions(parse_error(R"({"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", 8),
                       {"tensor 'w': shape [3] of F32 needs 12 bytes, data_offsets [0, 8] hold 8"}));
}

TEST(Safetensors, RejectsOverlappingTensors) {
  EXPECT_TRUE(mentions(parse_error(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},
                                      "b":{"dtype":"U8","shape":[4],"data_offsets":[6,10]}})",
                                   12),
                       {"tensors 'a' [0, 8) and 'b' [6, 10) overlap"}));
  // A long tensor spanning two short ones overlaps the second too.
  EXPECT_TRUE(mentions(parse_error(R"({"a":{"dtype":"U8","shape":[10],"data_offsets":[0,10]},
                                      "b":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}})",
                                   12),
                       {"overlap"}));
  // Empty tensors and gaps are fine.
  EXPECT_EQ(parse_error(R"({"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},
                            "e":{"dtype":"U8","shape":[0],"data_offsets":[1,1]},
                            "b":{"dtype":"U8","shape":[2],"data_offsets":[4,6]}})",
                        8),
            "(no error)");
}

TEST(Safetensors, RejectsDuplicateNamesAndFields) {
  EXPECT_TRUE(mentions(parse_error(R"({"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},
                                      "w":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}})",
                                   2),
                       {"bad.safetensors", "the header lists tensor 'w' twice"}));
  EXPECT_TRUE(mentions(parse_error(R"({"w":{"dtype":"U8","dtype":"F32","shape":[1],"data_offsets":[0,1]}})", 1),
                       {"header entry 'w' has the key 'dtype' twice"}));
  EXPECT_TRUE(mentions(parse_error(R"({"__metadata__":{"a":"1"},"__metadata__":{"a":"2"}})", 0),
                       {"lists tensor '__metadata__' twice"}));
}

TEST(Safetensors, RejectsMetadataThatIsNotStrings) {
  EXPECT_TRUE(mentions(parse_error(R"({"__metadata__":{"epoch":3}})", 0),
                       {"\"__metadata__\" value 'epoch' is a JSON number, not a string"}));
  EXPECT_TRUE(mentions(parse_error(R"({"__metadata__":["a"]})", 0), {"\"__metadata__\" is a JSON array"}));
  const SafetensorsFile file = SafetensorsFile::parse(make_file(R"({"__metadata__":{"a":"b"}})"), "m");
  EXPECT_EQ(file.metadata(), (std::map<std::string, std::string>{{"a", "b"}}));
}

TEST(Safetensors, LongNamesAreCutInMessages) {
  const std::string name(5000, 'n');
  const std::string msg = parse_error("{\"" + name + "\": 1}", 0);
  EXPECT_TRUE(mentions(msg, {"(5000 bytes)"}));
  EXPECT_LT(msg.size(), 400u);
}

TEST(Safetensors, LoadNamesTheMissingPath) {
  TempDir dir;
  EXPECT_TRUE(mentions(error_of([&] { SafetensorsFile::load(dir / "nope.safetensors"); }),
                       {"nope.safetensors", "does not exist"}));
  EXPECT_TRUE(mentions(error_of([&] { SafetensorsFile::load(dir.path()); }), {"not a regular file"}));
  write_bytes(dir / "short.safetensors", to_bytes("abc"));
  EXPECT_TRUE(mentions(error_of([&] { SafetensorsFile::load(dir / "short.safetensors"); }),
                       {"short.safetensors", "fewer than the 8"}));
}

// --- saving: refused before writing, or atomic ----------------------------------------------

// A file already at `path`, which failed saves must leave alone.
std::vector<std::byte> save_previous(const std::filesystem::path& path) {
  const std::vector<float> values = {42, 43};
  const std::vector<TensorToWrite> tensors = {{"previous", Dtype::F32, {2}, bytes_of(values)}};
  io::save_safetensors(path, tensors, {{"version", "1"}});
  return read_bytes(path);
}

TEST(Safetensors, SaveRefusesBadInputBeforeWriting) {
  TempDir dir;
  const auto path = dir / "m.safetensors";
  const std::vector<std::byte> previous = save_previous(path);
  const std::vector<float> v = {1, 2, 3};
  const auto refused = [&](std::vector<TensorToWrite> tensors, std::map<std::string, std::string> metadata = {}) {
    return error_of([&] { io::save_safetensors(path, tensors, metadata); });
  };
  EXPECT_TRUE(mentions(refused({{"a", Dtype::F32, {3}, bytes_of(v)}, {"a", Dtype::F32, {3}, bytes_of(v)}}),
                       {"m.safetensors", "two tensors are named 'a'"}));
  EXPECT_TRUE(mentions(refused({{"__metadata__", Dtype::F32, {3}, bytes_of(v)}}), {"\"__metadata__\" is reserved"}));
  EXPECT_TRUE(mentions(refused({{"a", Dtype::F32, {3}, bytes_of(v)}, {"b", Dtype::F32, {2, 2}, bytes_of(v)}}),
                       {"tensor 'b' has 12 bytes of data, its shape of F32 needs 16"}));
  EXPECT_TRUE(mentions(refused({{"a", Dtype(200), {3}, bytes_of(v)}}), {"not a Dtype"}));
  EXPECT_TRUE(mentions(refused({{"bad\xff", Dtype::F32, {3}, bytes_of(v)}}), {"not valid UTF-8"}));
  EXPECT_TRUE(mentions(refused({}, {{"k", "\xc3"}}), {"metadata value of 'k' is not valid UTF-8"}));
  EXPECT_EQ(read_bytes(path), previous);
  EXPECT_EQ(dir.listing(), std::vector<std::string>{"m.safetensors"});
}

TEST(Safetensors, SaveIntoAMissingFolderNamesIt) {
  TempDir dir;
  EXPECT_TRUE(mentions(error_of([&] { io::save_safetensors(dir / "no" / "m.safetensors", {}); }),
                       {"m.safetensors", "the folder", "does not exist"}));
  EXPECT_TRUE(dir.listing().empty());
}

TEST(Safetensors, SaveOverAFolderFailsAndCleansUp) {
  TempDir dir;
  std::filesystem::create_directories(dir / "m.safetensors" / "inside");
  EXPECT_TRUE(mentions(error_of([&] { io::save_safetensors(dir / "m.safetensors", {}); }), {"renaming", "failed"}));
  EXPECT_EQ(dir.listing(), std::vector<std::string>{"m.safetensors"});
}

// Runs `child` in a forked process and returns its exit status (or 128 + signal).
template <class F>
int in_child(F&& child) {
  const pid_t pid = fork();
  if (pid == 0) {
    // Never back into GoogleTest: it would go on running the other tests in the child.
    try {
      _exit(child());
    } catch (...) {
      _exit(100);
    }
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

TEST(Safetensors, WriteFailingMidwayLeavesThePreviousFile) {
  TempDir dir;
  const auto path = dir / "m.safetensors";
  const std::vector<std::byte> previous = save_previous(path);
  // The child may write at most 64 KiB per file: the 1 MiB save fails part-way through the data.
  const int status = in_child([&] {
    signal(SIGXFSZ, SIG_IGN);
    const rlimit limit{64 << 10, 64 << 10};
    setrlimit(RLIMIT_FSIZE, &limit);
    const std::vector<float> big(1 << 18, 1.0f);
    const std::vector<TensorToWrite> tensors = {{"big", Dtype::F32, {big.size()}, bytes_of(big)}};
    const std::string msg = error_of([&] { io::save_safetensors(path, tensors); });
    return mentions(msg, {"m.safetensors", "writing the temporary file", "failed"}) ? 0 : 1;
  });
  EXPECT_EQ(status, 0) << "the child's save did not fail as expected";
  EXPECT_EQ(read_bytes(path), previous);
  EXPECT_EQ(dir.listing(), std::vector<std::string>{"m.safetensors"}) << "the temporary file was not removed";
}

// A full disk (ENOSPC): a 64 KiB tmpfs of the child's own mount namespace (root, or
// CAP_SYS_ADMIN, is needed to mount one; the RLIMIT_FSIZE test above covers the failure path
// everywhere else).
TEST(Safetensors, DiskFullLeavesThePreviousFile) {
  TempDir dir;
  const auto small = dir / "small";
  std::filesystem::create_directories(small);
  const int status = in_child([&] {
    // The mount stays in the child's namespace: private propagation where "/" is a mount point
    // (inside tools/dev's chroot it is not, and that namespace is private already).
    if (unshare(CLONE_NEWNS) != 0) return 77;
    if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 && errno != EINVAL) return 77;
    if (mount("tmpfs", small.c_str(), "tmpfs", 0, "size=64k") != 0) return 77;
    const auto path = small / "m.safetensors";
    const std::vector<std::byte> previous = save_previous(path);
    const std::vector<float> big(1 << 18, 1.0f);  // 1 MiB
    const std::vector<TensorToWrite> tensors = {{"big", Dtype::F32, {big.size()}, bytes_of(big)}};
    const std::string msg = error_of([&] { io::save_safetensors(path, tensors); });
    std::vector<std::string> names;
    for (const auto& e : std::filesystem::directory_iterator(small)) names.push_back(e.path().filename().string());
    const bool ok = mentions(msg, {"m.safetensors", "failed", "the disk may be full"}) &&
                    read_bytes(path) == previous && names == std::vector<std::string>{"m.safetensors"};
    if (!ok) std::fprintf(stderr, "disk-full save: %s; files left: %zu\n", msg.c_str(), names.size());
    return ok ? 0 : 1;
  });
  if (status == 77) GTEST_SKIP() << "needs CAP_SYS_ADMIN to mount a small tmpfs (run as root)";
  EXPECT_EQ(status, 0) << "the save into a full disk did not fail cleanly";
}

TEST(Safetensors, KilledWriterLeavesThePreviousFile) {
  TempDir dir;
  const auto path = dir / "m.safetensors";
  const std::vector<std::byte> previous = save_previous(path);
  const std::vector<float> big(4 << 20, 2.0f);  // 16 MiB: the write takes a while
  const std::vector<TensorToWrite> tensors = {{"big", Dtype::F32, {big.size()}, bytes_of(big)}};

  const pid_t pid = fork();
  if (pid == 0) {
    try {
      for (;;) io::save_safetensors(path, tensors);
    } catch (...) {
      _exit(1);
    }
  }
  // Kill the writer as soon as its temporary file shows.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  bool seen = false;
  while (!seen && std::chrono::steady_clock::now() < deadline)
    for (const std::string& name : dir.listing()) seen = seen || name.rfind(".m.safetensors.tmp-", 0) == 0;
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(seen) << "the writer's temporary file never appeared";

  // The file is the old one, or (if the kill came after a rename) the complete new one.
  const std::vector<std::byte> now = read_bytes(path);
  const SafetensorsFile file = SafetensorsFile::load(path);
  if (now != previous) {
    EXPECT_EQ(file.names(), std::vector<std::string>{"big"});
    EXPECT_EQ(file.to_f32("big"), big);
  }
  // Whatever the kill left behind is a hidden temporary, never the file itself.
  for (const std::string& name : dir.listing())
    if (name != "m.safetensors") {
      EXPECT_EQ(name.rfind(".m.safetensors.tmp-", 0), 0u) << name;
    }
  // And the next save goes through.
  io::save_safetensors(path, tensors);
  EXPECT_EQ(SafetensorsFile::load(path).to_f32("big"), big);
}

}  // namespace
}  // namespace vkgrad::test
