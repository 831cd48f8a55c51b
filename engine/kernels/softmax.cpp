#include "vkgrad/kernels/softmax.hpp"

#include "vkgrad/error.hpp"
#include "vkgrad/kernels/variant.hpp"
#include "vkgrad/vk/context.hpp"

#include <algorithm>
#include <string>

namespace vkgrad::kernels {
namespace {

constexpr uint32_t kModeForward = 0, kModeBackward = 1;
constexpr uint32_t kAccumulate = 1, kCausal = 2;

void check_shape(const char* op, uint32_t rows, uint32_t cols) {
  if (cols == 0 && rows > 0)
    throw Error(std::string("softmax ") + op + " over rows of 0 columns", "every row needs at least one column");
  // The shader counts element pairs as (end + 1) / 2 in 32 bits.
  if (uint64_t(rows) * cols >= 0xFFFFFFFFull)
    throw Error(std::string("softmax ") + op + " over " + std::to_string(rows) + "×" + std::to_string(cols) +
                    " elements",
                "split the rows: one call handles fewer than 2^32 - 1 elements");
}

void check_size(const char* op, const char* name, const TensorRef& t, uint64_t elements) {
  require_elements(std::string("softmax ") + op, name, t, elements);
}

// Rows are written by different workgroups while others still read theirs, so no in-place.
void check_disjoint(const char* op, const char* out_name, const TensorRef& out, const char* in_name,
                    const TensorRef& in) {
  if (out.range.overlaps(in.range))
    throw Error(std::string("softmax ") + op + ": " + out_name + " overlaps " + in_name,
                "write the result to a range of its own");
}

}  // namespace

Softmax::Softmax(vk::Context& ctx) : ctx_(ctx), pipelines_(ctx, "softmax", 3, sizeof(SoftmaxArgs)) {}

void Softmax::dispatch(vk::Recorder& rec, const SoftmaxArgs& args, const TensorRef& in0, const TensorRef& in1,
                       const TensorRef& out, bool reads_out, const char* label) const {
  // fp16 rows of odd length are written half a word at a time, by read-modify-write.
  const bool read = reads_out || out.type == ElemType::F16;
  const vk::Binding bindings[] = {{in0.range, vk::Access::Read},
                                  {in1.range, vk::Access::Read},
                                  {out.range, read ? vk::Access::ReadWrite : vk::Access::Write}};
  const uint32_t groups = std::min(args.rows, ctx_.caps().max_workgroup_count[0]);
  rec.dispatch({.pipeline = &pipelines_.get({{0, reduce_workgroup_size(ctx_.caps(), args.cols)},
                                             {16, uint32_t(in0.type)},
                                             {17, uint32_t(in1.type)},
                                             {18, uint32_t(out.type)}}),
                .bindings = bindings,
                .push_constants = &args,
                .groups = {groups, 1, 1},
                .label = label});
}

void Softmax::forward(vk::Recorder& rec, const TensorRef& x, const TensorRef& y, uint32_t rows, uint32_t cols,
                      bool causal) const {
  check_shape("forward", rows, cols);
  check_size("forward", "x", x, uint64_t(rows) * cols);
  check_size("forward", "y", y, uint64_t(rows) * cols);
  check_disjoint("forward", "y", y, "x", x);
  if (rows == 0) return;
  const SoftmaxArgs args{kModeForward, rows, cols, causal ? kCausal : 0u};
  // Binding 1 is unused: x again, typed canonically so that forward shares pipelines.
  dispatch(rec, args, x, {x.range, ElemType::F32}, y, false, "softmax.fwd");
}

void Softmax::backward(vk::Recorder& rec, const TensorRef& y, const TensorRef& dy, const TensorRef& dx, uint32_t rows,
                       uint32_t cols, bool accumulate) const {
  check_shape("backward", rows, cols);
  check_size("backward", "y", y, uint64_t(rows) * cols);
  check_size("backward", "dy", dy, uint64_t(rows) * cols);
  check_size("backward", "dx", dx, uint64_t(rows) * cols);
  check_disjoint("backward", "dx", dx, "y", y);
  check_disjoint("backward", "dx", dx, "dy", dy);
  if (rows == 0) return;
  const SoftmaxArgs args{kModeBackward, rows, cols, accumulate ? kAccumulate : 0};
  dispatch(rec, args, y, dy, dx, accumulate, "softmax.bwd");
}

}  // namespace vkgrad::kernels
