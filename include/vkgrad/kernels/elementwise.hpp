// vkgrad::kernels::Elementwise — pointwise activations and their gradients, add and multiply
// with row broadcast, and deterministic column sums (shaders/elementwise.comp), fp32 math over
// fp32 or fp16 tensors.
//
// One shader serves every call: the operation, op code, shapes and flags are push constants and
// the operands' element types are specialization constants, so there is one pipeline per
// combination of element types used (8 at most), taken from the Context's registry on first use
// and then reused without allocating. An output may be exactly one of its operation's inputs
// (same range, same element type) for in-place updates; any other overlap is an Error.
// Recording is const but fills that pipeline cache: one thread at a time.
#pragma once

#include "vkgrad/kernels/kernel_pipelines.hpp"
#include "vkgrad/kernels/tensor_ref.hpp"
#include "vkgrad/vk/recorder.hpp"

#include <array>
#include <cstdint>
#include <span>

namespace vkgrad::vk {
class Context;
}

namespace vkgrad::kernels {

// 0-3 share their codes (and their fp32 formulas) with Activation, the GEMM epilogue's.
enum class UnaryOp : uint32_t { Identity = 0, Relu = 1, Gelu = 2, GeluTanh = 3, Tanh = 4, Sigmoid = 5, Sin = 6, Cos = 7 };
enum class BinaryOp : uint32_t { Add = 0, Mul = 1 };

// Mirrors the push constants of shaders/elementwise.comp.
struct ElementwiseArgs {
  uint32_t mode;  // 0 unary, 1 unary backward, 2 binary, 3 column sum, 4 fused, 6 strided copy
  uint32_t op;    // UnaryOp or BinaryOp
  uint32_t n;     // elements of the flat modes (0-2, 5)
  uint32_t rows, cols;
  uint32_t flags;  // bit 0: accumulate, bit 1: broadcast b
  uint32_t dims[5] = {}, src_strides[5] = {}, dst_strides[5] = {};  // strided copy
  uint32_t src_offset = 0, dst_offset = 0;
};

// A copy between two strided views (elements): the shape iterated, row-major, and where each
// coordinate lives in the source and in the destination. Shapes of fewer than 5 dimensions pad
// with leading 1s.
struct StridedCopy {
  std::array<uint32_t, 5> dims{1, 1, 1, 1, 1};
  std::array<uint32_t, 5> src_strides{}, dst_strides{};
  uint32_t src_offset = 0, dst_offset = 0;
};
static_assert(sizeof(ElementwiseArgs) <= 128);

class Elementwise {
public:
  explicit Elementwise(vk::Context& ctx);

  // y = f(x) over n elements; x and y may have different element types (Identity converts).
  void unary(vk::Recorder& rec, UnaryOp op, const TensorRef& x, const TensorRef& y, uint32_t n) const;
  // dx = dy · f'(x) over n elements (x is the op's input); with accumulate, dx += dy · f'(x).
  // relu'(0) = 0; the GELU derivatives are PyTorch's.
  void unary_backward(vk::Recorder& rec, UnaryOp op, const TensorRef& x, const TensorRef& dy, const TensorRef& dx,
                      uint32_t n, bool accumulate) const;
  // c = a ∘ b, a and c [rows, cols]; b is [rows, cols], or [cols] applied to every row when
  // broadcast_b. c may be the same range as a, or as an unbroadcast b (in place).
  void binary(vk::Recorder& rec, BinaryOp op, const TensorRef& a, const TensorRef& b, const TensorRef& c,
              uint32_t rows, uint32_t cols, bool broadcast_b) const;
  // out[j] = Σ_r x[r][j] (out has cols elements) in fp32 in a fixed order: the same bits on
  // every run, no float atomics. With accumulate, out[j] += that. rows = 0 gives zeros.
  void column_sum(vk::Recorder& rec, const TensorRef& x, const TensorRef& out, uint32_t rows, uint32_t cols,
                  bool accumulate) const;
  // out[r][dst_col + j] (+)= x[r][src_col + j] for r < rows, j < width, where x has src_cols
  // columns and out dst_cols; out's other columns stay as they are (concatenation, slicing
  // and their gradients, along any dimension viewed as rows × columns): a strided_copy. Types
  // may differ.
  void copy_columns(vk::Recorder& rec, const TensorRef& x, const TensorRef& out, uint32_t rows, uint32_t src_cols,
                    uint32_t src_col, uint32_t dst_cols, uint32_t dst_col, uint32_t width, bool accumulate) const;
  // out (+)= x with dimensions i < j of `dims` (x's row-major shape, at most 5 dimensions)
  // swapped, as torch.transpose(x, i, j) made contiguous. Types may differ; no overlap.
  void transpose(vk::Recorder& rec, const TensorRef& x, const TensorRef& out, std::span<const uint32_t> dims,
                 uint32_t i, uint32_t j, bool accumulate) const;
  // out's view (+)= x's view, element by element; the views must stay inside their ranges and the
  // destination's must not repeat an element. Types may differ; no overlap.
  void strided_copy(vk::Recorder& rec, const TensorRef& x, const TensorRef& out, const StridedCopy& c,
                    bool accumulate) const;
  // A layer's activation backward and bias gradient: dx = dy · f'(x) over [rows, cols], then
  // sums[j] (+)= Σ_r dx[r][j] (fp32 `sums`, accumulated when `accumulate`). One pass when cols is
  // even, else unary_backward and column_sum; the same bits either way.
  void unary_backward_column_sum(vk::Recorder& rec, UnaryOp op, const TensorRef& x, const TensorRef& dy,
                                 const TensorRef& dx, const vk::BufferRange& sums, uint32_t rows, uint32_t cols,
                                 bool accumulate) const;

private:
  const vk::Pipeline& pipeline(ElemType in0, ElemType in1, ElemType out) const;
  // `sums` is binding 3, read and written by the fused mode only (others bind `out` there).
  void dispatch(vk::Recorder& rec, const ElementwiseArgs& args, const TensorRef& in0, const TensorRef& in1,
                const TensorRef& out, bool reads_out, uint32_t groups, const char* label,
                const vk::BufferRange* sums = nullptr) const;

  KernelPipelines pipelines_;
};

}  // namespace vkgrad::kernels
