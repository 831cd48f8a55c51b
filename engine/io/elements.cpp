#include "io/elements.hpp"
#include "vk/host_memory.hpp"

#include "vkgrad/error.hpp"

#include <bit>
#include <cmath>
#include <limits>
#include <string>

namespace vkgrad::io::detail {
namespace {

float half_to_float(uint16_t h) {
  const uint32_t sign = uint32_t(h & 0x8000u) << 16;
  const uint32_t exponent = (uint32_t(h) >> 10) & 0x1fu;
  const uint32_t mantissa = uint32_t(h) & 0x3ffu;
  if (exponent == 0x1f) return std::bit_cast<float>(sign | 0x7f800000u | (mantissa << 13));  // inf, NaN
  if (exponent != 0) return std::bit_cast<float>(sign | ((exponent + 112) << 23) | (mantissa << 13));
  const float magnitude = std::ldexp(float(mantissa), -24);  // zero or subnormal: mantissa × 2^-24
  return sign ? -magnitude : magnitude;
}

// Beyond float's range a double becomes ±inf (a plain cast would be undefined behaviour).
float narrow(double v) {
  if (v > double(std::numeric_limits<float>::max())) return std::numeric_limits<float>::infinity();
  if (v < -double(std::numeric_limits<float>::max())) return -std::numeric_limits<float>::infinity();
  return static_cast<float>(v);
}

// One little-endian element at p, per dtype.
float read_f64(const std::byte* p) { return narrow(std::bit_cast<double>(load_le<uint64_t>(p))); }
float read_f32(const std::byte* p) { return std::bit_cast<float>(load_le<uint32_t>(p)); }
float read_f16(const std::byte* p) { return half_to_float(load_le<uint16_t>(p)); }
float read_bf16(const std::byte* p) { return std::bit_cast<float>(uint32_t(load_le<uint16_t>(p)) << 16); }
int64_t read_i64(const std::byte* p) { return std::bit_cast<int64_t>(load_le<uint64_t>(p)); }
int64_t read_i32(const std::byte* p) { return std::bit_cast<int32_t>(load_le<uint32_t>(p)); }
int64_t read_i16(const std::byte* p) { return std::bit_cast<int16_t>(load_le<uint16_t>(p)); }
int64_t read_i8(const std::byte* p) { return std::bit_cast<int8_t>(*p); }
int64_t read_u8(const std::byte* p) { return int64_t(*p); }
int64_t read_bool(const std::byte* p) { return *p != std::byte{0}; }

template <int64_t (*Read)(const std::byte*)>
float as_float(const std::byte* p) {
  return float(Read(p));
}

template <class Out, class Decode>
std::vector<Out> convert(Dtype dtype, std::span<const std::byte> data, Decode decode) {
  const size_t size = dtype_size(dtype);
  auto out = vk::host_vector<Out>(data.size() / size, "decoded tensor values");
  for (size_t i = 0; i < out.size(); ++i) out[i] = decode(data.data() + i * size);
  return out;
}

}  // namespace

std::vector<float> elements_to_f32(Dtype dtype, std::span<const std::byte> data) {
  switch (dtype) {
    case Dtype::F64: return convert<float>(dtype, data, read_f64);
    case Dtype::F32: return convert<float>(dtype, data, read_f32);
    case Dtype::F16: return convert<float>(dtype, data, read_f16);
    case Dtype::BF16: return convert<float>(dtype, data, read_bf16);
    case Dtype::I64: return convert<float>(dtype, data, as_float<read_i64>);
    case Dtype::I32: return convert<float>(dtype, data, as_float<read_i32>);
    case Dtype::I16: return convert<float>(dtype, data, as_float<read_i16>);
    case Dtype::I8: return convert<float>(dtype, data, as_float<read_i8>);
    case Dtype::U8: return convert<float>(dtype, data, as_float<read_u8>);
    case Dtype::Bool: return convert<float>(dtype, data, as_float<read_bool>);
  }
  throw Error("Dtype value " + std::to_string(unsigned(dtype)) + " is not a Dtype", "use one of the named io::Dtype values");
}

std::optional<std::vector<int64_t>> elements_to_i64(Dtype dtype, std::span<const std::byte> data) {
  switch (dtype) {
    case Dtype::I64: return convert<int64_t>(dtype, data, read_i64);
    case Dtype::I32: return convert<int64_t>(dtype, data, read_i32);
    case Dtype::I16: return convert<int64_t>(dtype, data, read_i16);
    case Dtype::I8: return convert<int64_t>(dtype, data, read_i8);
    case Dtype::U8: return convert<int64_t>(dtype, data, read_u8);
    case Dtype::Bool: return convert<int64_t>(dtype, data, read_bool);
    case Dtype::F64:
    case Dtype::F32:
    case Dtype::F16:
    case Dtype::BF16: return std::nullopt;
  }
  throw Error("Dtype value " + std::to_string(unsigned(dtype)) + " is not a Dtype", "use one of the named io::Dtype values");
}

}  // namespace vkgrad::io::detail
