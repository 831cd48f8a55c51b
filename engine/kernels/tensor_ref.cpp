#include "vkgrad/kernels/tensor_ref.hpp"

namespace vkgrad::kernels {

size_t elem_bytes(ElemType t) { return t == ElemType::F32 ? 4 : 2; }

std::string_view elem_type_name(ElemType t) { return t == ElemType::F32 ? "f32" : "f16"; }

size_t tensor_bytes(ElemType t, size_t elements) {
  return t == ElemType::F32 ? 4 * elements : 4 * ((elements + 1) / 2);
}

}  // namespace vkgrad::kernels
