// Element types (include/vkgrad/kernels/tensor_ref.hpp): sizes and names, no GPU needed. fp16
// tensors are 32-bit words (shaders/common/words.glsl), so an odd count rounds up to a word.
#include "vkgrad/kernels/tensor_ref.hpp"

#include <gtest/gtest.h>

namespace vkgrad::test {
namespace {

using kernels::ElemType;

TEST(ElemTypes, BytesPerTensorAreWholeWords) {
  EXPECT_EQ(kernels::elem_bytes(ElemType::F32), 4u);
  EXPECT_EQ(kernels::elem_bytes(ElemType::F16), 2u);
  EXPECT_EQ(kernels::tensor_bytes(ElemType::F32, 3), 12u);
  EXPECT_EQ(kernels::tensor_bytes(ElemType::F16, 3), 8u);
  EXPECT_EQ(kernels::tensor_bytes(ElemType::F16, 4), 8u);
  EXPECT_EQ(kernels::tensor_bytes(ElemType::F16, 0), 0u);
}

// The names key the measured GEMM choices on disk (gemm_tuning_key): renaming one would orphan them.
TEST(ElemTypes, NamesAreStable) {
  EXPECT_EQ(kernels::elem_type_name(ElemType::F32), "f32");
  EXPECT_EQ(kernels::elem_type_name(ElemType::F16), "f16");
}

}  // namespace
}  // namespace vkgrad::test
