#include "vkgrad/kernels/tensor_ref.hpp"

#include "vkgrad/error.hpp"

#include <cmath>
#include <cstring>
#include <string>

namespace vkgrad::kernels {

size_t elem_bytes(ElemType t) { return t == ElemType::F32 ? 4 : 2; }

std::string_view elem_type_name(ElemType t) { return t == ElemType::F32 ? "f32" : "f16"; }

size_t tensor_bytes(ElemType t, size_t elements) {
  return t == ElemType::F32 ? 4 * elements : 4 * ((elements + 1) / 2);
}

void require_elements(std::string_view kernel, std::string_view name, const TensorRef& t, uint64_t elements) {
  if (!t.range.buffer) throw Error(std::string(kernel) + ": " + std::string(name) + " has no buffer", "bind a buffer range");
  const uint64_t need = tensor_bytes(t.type, elements);
  if (t.range.size < need)
    throw Error(std::string(kernel) + ": " + std::string(name) + " holds " + std::to_string(elements) + " " +
                    std::string(elem_type_name(t.type)) + " elements (" + std::to_string(need) +
                    " bytes) but its range has " + std::to_string(t.range.size),
                "bind a larger range or fix the shape");
}

uint16_t half_bits(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  const uint32_t sign = (x >> 16) & 0x8000u;
  const uint32_t ax = x & 0x7FFFFFFFu;
  if (ax >= 0x7F800000u) return uint16_t(sign | (ax > 0x7F800000u ? 0x7E00u : 0x7C00u));
  if (ax >= 0x477FF000u) return uint16_t(sign | 0x7C00u);
  const uint32_t e = ax >> 23;
  if (e >= 113u) {
    uint32_t h = (ax >> 13) - (112u << 10);
    const uint32_t rest = ax & 0x1FFFu;
    if (rest > 0x1000u || (rest == 0x1000u && (h & 1u) != 0u)) h += 1u;
    return uint16_t(sign | h);
  }
  if (e < 102u) return uint16_t(sign);
  const uint32_t m = (ax & 0x7FFFFFu) | 0x800000u;
  const uint32_t shift = 126u - e;
  uint32_t q = m >> shift;
  const uint32_t rest = m & ((1u << shift) - 1u), half_unit = 1u << (shift - 1u);
  if (rest > half_unit || (rest == half_unit && (q & 1u) != 0u)) q += 1u;
  return uint16_t(sign | q);
}

float half_value(uint16_t h) {
  const uint32_t sign = (h & 0x8000u) ? 1u : 0u, e = (h >> 10) & 0x1Fu, m = h & 0x3FFu;
  float v;
  if (e == 0)
    v = std::ldexp(float(m), -24);
  else if (e == 31)
    v = m ? NAN : INFINITY;
  else
    v = std::ldexp(float(m | 0x400u), int(e) - 25);
  return sign ? -v : v;
}

}  // namespace vkgrad::kernels
