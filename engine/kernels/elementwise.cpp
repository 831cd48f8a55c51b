#include "vkgrad/kernels/elementwise.hpp"

#include "vkgrad/error.hpp"
#include "vkgrad/vk/context.hpp"

#include <algorithm>
#include <string>

namespace vkgrad::kernels {
namespace {

// Specialization constant 0 of shaders/elementwise.comp (common/workgroup_reduce.glsl), always
// given explicitly: lavapipe drops the barriers of a workgroup sized by an unspecialized constant.
constexpr uint32_t kWorkgroup = 256;
constexpr uint32_t kMaxGroups = 4096;     // enough to fill any GPU; the shader grid-strides
constexpr uint32_t kColumnsPerGroup = 64;  // 32 column pairs per workgroup and block
constexpr uint32_t kModeUnary = 0, kModeUnaryBackward = 1, kModeBinary = 2, kModeColumnSum = 3,
                   kModeBackwardColumnSum = 4, kModeStridedCopy = 6;
constexpr uint32_t kAccumulate = 1, kBroadcast = 2;

// Elements of one flat operation: the shader counts element pairs in 32 bits as (n + 1) / 2.
uint32_t flat_elements(const char* op, uint64_t n) {
  if (n >= 0xFFFFFFFFull)
    throw Error(std::string("elementwise ") + op + " over " + std::to_string(n) + " elements",
                "split the tensor: one call handles fewer than 2^32 - 1 elements");
  return static_cast<uint32_t>(n);
}

void check_size(const char* op, const char* name, const TensorRef& t, uint64_t elements) {
  require_elements(std::string("elementwise ") + op, name, t, elements);
}

// An output may alias an input only exactly, so that every invocation reads the elements it
// then overwrites and nothing else; a shifted or retyped alias would race.
void check_alias(const char* op, const char* out_name, const TensorRef& out, const char* in_name, const TensorRef& in,
                 bool exact_allowed) {
  if (!out.range.overlaps(in.range)) return;
  const bool exact = out.range.offset == in.range.offset && out.type == in.type;
  if (exact && exact_allowed) return;
  throw Error(std::string("elementwise ") + op + ": " + out_name + " overlaps " + in_name +
                  (exact ? " (a broadcast operand cannot be overwritten while other rows read it)"
                         : " without being the same tensor"),
              exact ? "write to a separate range"
                    : "write to a separate range, or in place to exactly the input's range and element type");
}

void check_op(const char* op, uint32_t code, uint32_t last) {
  if (code > last)
    throw Error(std::string("elementwise ") + op + ": unknown op code " + std::to_string(code),
                "pass a value of the op enum");
}

uint32_t flat_groups(uint32_t n) {
  const uint32_t pairs = n / 2 + n % 2;
  return std::clamp((pairs + kWorkgroup - 1) / kWorkgroup, 1u, kMaxGroups);
}

}  // namespace

Elementwise::Elementwise(vk::Context& ctx) : pipelines_(ctx, "elementwise", 4, sizeof(ElementwiseArgs)) {}

const vk::Pipeline& Elementwise::pipeline(ElemType in0, ElemType in1, ElemType out) const {
  return pipelines_.get({{0, kWorkgroup}, {16, uint32_t(in0)}, {17, uint32_t(in1)}, {18, uint32_t(out)}});
}

void Elementwise::dispatch(vk::Recorder& rec, const ElementwiseArgs& args, const TensorRef& in0, const TensorRef& in1,
                           const TensorRef& out, bool reads_out, uint32_t groups, const char* label,
                           const vk::BufferRange* sums) const {
  // fp16 outputs are partly written by read-modify-write (a pair's lone half), so they are read too.
  const bool read = reads_out || out.type == ElemType::F16;
  // Modes without sums bind the output there again: the shader may write binding 3, so it must
  // name memory this dispatch is already declared to write.
  const vk::Access out_access = read ? vk::Access::ReadWrite : vk::Access::Write;
  const vk::Binding bindings[] = {{in0.range, vk::Access::Read},
                                  {in1.range, vk::Access::Read},
                                  {out.range, out_access},
                                  sums ? vk::Binding{*sums, vk::Access::ReadWrite} : vk::Binding{out.range, out_access}};
  rec.dispatch({.pipeline = &pipeline(in0.type, in1.type, out.type),
                .bindings = bindings,
                .push_constants = &args,
                .groups = {groups, 1, 1},
                .label = label});
}

void Elementwise::unary(vk::Recorder& rec, UnaryOp op, const TensorRef& x, const TensorRef& y, uint32_t n) const {
  check_op("unary", uint32_t(op), uint32_t(UnaryOp::Cos));
  flat_elements("unary", n);
  check_size("unary", "x", x, n);
  check_size("unary", "y", y, n);
  check_alias("unary", "y", y, "x", x, true);
  if (n == 0) return;
  // Binding 1 is unused: x again, with its type canonical so that this shares pipelines.
  const ElementwiseArgs args{kModeUnary, uint32_t(op), n, 0, 0, 0};
  dispatch(rec, args, x, {x.range, ElemType::F32}, y, false, flat_groups(n), "ew.unary");
}

void Elementwise::unary_backward(vk::Recorder& rec, UnaryOp op, const TensorRef& x, const TensorRef& dy,
                                 const TensorRef& dx, uint32_t n, bool accumulate) const {
  check_op("unary_backward", uint32_t(op), uint32_t(UnaryOp::Cos));
  flat_elements("unary_backward", n);
  check_size("unary_backward", "x", x, n);
  check_size("unary_backward", "dy", dy, n);
  check_size("unary_backward", "dx", dx, n);
  check_alias("unary_backward", "dx", dx, "x", x, true);
  check_alias("unary_backward", "dx", dx, "dy", dy, true);
  if (n == 0) return;
  const ElementwiseArgs args{kModeUnaryBackward, uint32_t(op), n, 0, 0, accumulate ? kAccumulate : 0};
  dispatch(rec, args, x, dy, dx, accumulate, flat_groups(n), "ew.unary_bwd");
}

void Elementwise::binary(vk::Recorder& rec, BinaryOp op, const TensorRef& a, const TensorRef& b, const TensorRef& c,
                         uint32_t rows, uint32_t cols, bool broadcast_b) const {
  check_op("binary", uint32_t(op), uint32_t(BinaryOp::Mul));
  const uint32_t n = flat_elements("binary", uint64_t(rows) * cols);
  check_size("binary", "a", a, n);
  check_size("binary", "b", b, broadcast_b ? cols : n);
  check_size("binary", "c", c, n);
  check_alias("binary", "c", c, "a", a, true);
  check_alias("binary", "c", c, "b", b, !broadcast_b);
  if (n == 0) return;
  const ElementwiseArgs args{kModeBinary, uint32_t(op), n, rows, cols, broadcast_b ? kBroadcast : 0};
  dispatch(rec, args, a, b, c, false, flat_groups(n), "ew.binary");
}

void Elementwise::column_sum(vk::Recorder& rec, const TensorRef& x, const TensorRef& out, uint32_t rows,
                             uint32_t cols, bool accumulate) const {
  flat_elements("column_sum", uint64_t(rows) * cols);
  if (cols >= 0xFFFFFFFFu - kColumnsPerGroup)
    throw Error("elementwise column_sum over " + std::to_string(cols) + " columns", "split the columns");
  check_size("column_sum", "x", x, uint64_t(rows) * cols);
  check_size("column_sum", "out", out, cols);
  check_alias("column_sum", "out", out, "x", x, false);
  if (cols == 0) return;
  const ElementwiseArgs args{kModeColumnSum, 0, 0, rows, cols, accumulate ? kAccumulate : 0};
  const uint32_t groups = std::min(kMaxGroups, (cols + kColumnsPerGroup - 1) / kColumnsPerGroup);
  // Binding 1 is unused: x again, typed canonically as in unary().
  dispatch(rec, args, x, {x.range, ElemType::F32}, out, accumulate, groups, "ew.column_sum");
}

void Elementwise::copy_columns(vk::Recorder& rec, const TensorRef& x, const TensorRef& out, uint32_t rows,
                               uint32_t src_cols, uint32_t src_col, uint32_t dst_cols, uint32_t dst_col,
                               uint32_t width, bool accumulate) const {
  if (uint64_t(src_col) + width > src_cols || uint64_t(dst_col) + width > dst_cols)
    throw Error("elementwise copy_columns: columns [" + std::to_string(src_col) + ", +" + std::to_string(width) +
                    ") of " + std::to_string(src_cols) + " into [" + std::to_string(dst_col) + ", +" +
                    std::to_string(width) + ") of " + std::to_string(dst_cols),
                "keep both blocks inside their rows");
  const uint32_t n = flat_elements("copy_columns", uint64_t(rows) * dst_cols);
  check_size("copy_columns", "x", x, uint64_t(rows) * src_cols);
  check_size("copy_columns", "out", out, n);
  StridedCopy c;
  c.dims = {1, 1, 1, rows, width};
  c.src_strides = {0, 0, 0, src_cols, 1};
  c.dst_strides = {0, 0, 0, dst_cols, 1};
  c.src_offset = src_col, c.dst_offset = dst_col;
  strided_copy(rec, x, out, c, accumulate);
}

void Elementwise::transpose(vk::Recorder& rec, const TensorRef& x, const TensorRef& out,
                            std::span<const uint32_t> dims, uint32_t i, uint32_t j, bool accumulate) const {
  if (dims.empty() || dims.size() > 5 || i >= j || j >= dims.size())
    throw Error("elementwise transpose of dimensions " + std::to_string(i) + " and " + std::to_string(j) + " of a " +
                    std::to_string(dims.size()) + "-dimensional tensor",
                "swap two distinct dimensions (i < j) of a tensor of at most 5 dimensions");
  // Iterate over the output's shape (x's with i and j swapped), contiguous in out; each output
  // dimension reads x at the stride of the dimension it came from.
  const size_t pad = 5 - dims.size();
  std::array<uint32_t, 5> x_strides{};
  uint32_t stride = 1;
  for (size_t d = dims.size(); d-- > 0;) {
    x_strides[d] = stride;
    stride *= dims[d];
  }
  StridedCopy c;
  for (size_t d = 0; d < dims.size(); ++d) {
    const size_t from = d == i ? j : d == j ? i : d;
    c.dims[pad + d] = dims[from];
    c.src_strides[pad + d] = x_strides[from];
  }
  stride = 1;
  for (size_t d = 5; d-- > 0;) {
    c.dst_strides[d] = stride;
    stride *= c.dims[d];
  }
  strided_copy(rec, x, out, c, accumulate);
}

void Elementwise::strided_copy(vk::Recorder& rec, const TensorRef& x, const TensorRef& out, const StridedCopy& c,
                               bool accumulate) const {
  uint64_t total = 1, src_last = c.src_offset, dst_last = c.dst_offset;
  for (size_t d = 0; d < 5; ++d) {
    total *= c.dims[d];
    if (c.dims[d] == 0) total = 0;
    src_last += uint64_t(c.dims[d] ? c.dims[d] - 1 : 0) * c.src_strides[d];
    dst_last += uint64_t(c.dims[d] ? c.dims[d] - 1 : 0) * c.dst_strides[d];
  }
  const uint32_t n = flat_elements("strided_copy", total);
  if (n == 0) return;
  if (src_last >= 0xFFFFFFFFull || dst_last >= 0xFFFFFFFFull)
    throw Error("elementwise strided_copy: a view reaches past element 2^32", "split the copy");
  check_size("strided_copy", "x", x, src_last + 1);
  check_size("strided_copy", "out", out, dst_last + 1);
  check_alias("strided_copy", "out", out, "x", x, false);
  ElementwiseArgs args{kModeStridedCopy, 0, n, 0, 0, accumulate ? kAccumulate : 0};
  for (size_t d = 0; d < 5; ++d) {
    args.dims[d] = c.dims[d];
    args.src_strides[d] = c.src_strides[d];
    args.dst_strides[d] = c.dst_strides[d];
  }
  args.src_offset = c.src_offset, args.dst_offset = c.dst_offset;
  // Binding 1 is unused: x again, typed canonically as in unary(). The destination may be
  // written half a word at a time: read too.
  dispatch(rec, args, x, {x.range, ElemType::F32}, out, true, flat_groups(2 * (n / c.dims[4])),
           "ew.strided_copy");
}

void Elementwise::unary_backward_column_sum(vk::Recorder& rec, UnaryOp op, const TensorRef& x, const TensorRef& dy,
                                            const TensorRef& dx, const vk::BufferRange& sums, uint32_t rows,
                                            uint32_t cols, bool accumulate) const {
  const TensorRef sums_ref{sums, ElemType::F32};
  if (cols % 2 != 0) {
    // Element pairs of dx would straddle rows: two passes, the same arithmetic.
    unary_backward(rec, op, x, dy, dx, uint32_t(uint64_t(rows) * cols), false);
    column_sum(rec, dx, sums_ref, rows, cols, accumulate);
    return;
  }
  check_op("unary_backward_column_sum", uint32_t(op), uint32_t(UnaryOp::Cos));
  const uint32_t n = flat_elements("unary_backward_column_sum", uint64_t(rows) * cols);
  if (cols >= 0xFFFFFFFFu - kColumnsPerGroup)
    throw Error("elementwise unary_backward_column_sum over " + std::to_string(cols) + " columns", "split the columns");
  check_size("unary_backward_column_sum", "x", x, n);
  check_size("unary_backward_column_sum", "dy", dy, n);
  check_size("unary_backward_column_sum", "dx", dx, n);
  check_size("unary_backward_column_sum", "sums", sums_ref, cols);
  // Rows are written while other workgroups still read theirs: no aliasing at all.
  check_alias("unary_backward_column_sum", "dx", dx, "x", x, false);
  check_alias("unary_backward_column_sum", "dx", dx, "dy", dy, false);
  check_alias("unary_backward_column_sum", "sums", sums_ref, "dx", dx, false);
  if (cols == 0) return;
  const ElementwiseArgs args{kModeBackwardColumnSum, uint32_t(op), n, rows, cols, accumulate ? kAccumulate : 0};
  const uint32_t groups = std::min(kMaxGroups, (cols + kColumnsPerGroup - 1) / kColumnsPerGroup);
  dispatch(rec, args, x, dy, dx, false, groups, "ew.bwd_column_sum", &sums);
}

}  // namespace vkgrad::kernels
