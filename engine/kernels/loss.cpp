#include "vkgrad/kernels/loss.hpp"

#include "vkgrad/error.hpp"
#include "vkgrad/kernels/variant.hpp"
#include "vkgrad/vk/context.hpp"

#include <algorithm>
#include <string>
#include <string_view>

namespace vkgrad::kernels {
namespace {

constexpr uint32_t kModeForward = 0, kModeMean = 1, kModeBackward = 2;

void check_bytes(const char* op, const char* name, const vk::BufferRange& r, uint64_t need, const std::string& what) {
  if (!r.buffer) throw Error(std::string("loss ") + op + ": " + name + " has no buffer", "bind a buffer range");
  if (r.size < need)
    throw Error(std::string("loss ") + op + ": " + name + " holds " + what + " (" + std::to_string(need) +
                    " bytes) but its range has " + std::to_string(r.size),
                "bind a larger range or fix the shape");
}

void check_disjoint(const char* op, const char* out_name, const vk::BufferRange& a, const char* in_name,
                    const vk::BufferRange& b) {
  if (a.overlaps(b))
    throw Error(std::string("loss ") + op + ": " + out_name + " overlaps " + in_name,
                "write the result to a range of its own");
}

std::string elements(uint64_t n, std::string_view type) {
  return std::to_string(n) + " " + std::string(type) + " elements";
}

// Cross-entropy labels are int32 words whatever target.type says; the shader ignores its type,
// so it is keyed canonically and every label type shares one pipeline.
ElemType target_type(LossKind kind, const TensorRef& target) {
  return kind == LossKind::CrossEntropy ? ElemType::F32 : target.type;
}

uint32_t row_groups(const vk::Context& ctx, uint32_t rows) { return std::min(rows, ctx.caps().max_workgroup_count[0]); }

}  // namespace

Loss::Loss(vk::Context& ctx) : ctx_(ctx), pipelines_(ctx, "loss", 4, sizeof(LossArgs)) {}

void Loss::check(const char* op, LossKind kind, const TensorRef& pred, const TensorRef& target,
                 const vk::BufferRange& params, uint32_t rows, uint32_t cols, uint32_t positions) const {
  if (uint32_t(kind) > uint32_t(LossKind::L1))
    throw Error(std::string("loss ") + op + ": unknown loss kind " + std::to_string(uint32_t(kind)),
                "pass a value of LossKind");
  if (rows == 0 || cols == 0)
    throw Error(std::string("loss ") + op + " of a " + std::to_string(rows) + "×" + std::to_string(cols) +
                    " prediction",
                "rows and cols must be at least 1");
  if (positions == 0 || rows % positions != 0)
    throw Error(std::string("loss ") + op + ": " + std::to_string(rows) + " rows are not whole samples of " +
                    std::to_string(positions) + " positions",
                "pass rows = samples × positions, positions ≥ 1");
  // The shader counts element pairs as (end + 1) / 2 in 32 bits.
  const uint64_t n = uint64_t(rows) * cols;
  if (n >= 0xFFFFFFFFull)
    throw Error(std::string("loss ") + op + " over " + std::to_string(n) + " elements",
                "split the batch: one call handles fewer than 2^32 - 1 elements");
  check_bytes(op, "pred", pred.range, tensor_bytes(pred.type, n), elements(n, elem_type_name(pred.type)));
  if (kind == LossKind::CrossEntropy)
    check_bytes(op, "target", target.range, 4 * uint64_t(rows), std::to_string(rows) + " int32 labels");
  else
    check_bytes(op, "target", target.range, tensor_bytes(target.type, n),
                elements(n, elem_type_name(target.type)));
  check_bytes(op, "params", params, sizeof(LossParams), "LossParams");
}

void Loss::forward(vk::Recorder& rec, LossKind kind, const TensorRef& pred, const TensorRef& target,
                   const vk::BufferRange& params, const vk::BufferRange& row_loss, uint32_t rows, uint32_t cols,
                   uint32_t positions) const {
  check("forward", kind, pred, target, params, rows, cols, positions);
  check_bytes("forward", "row_loss", row_loss, 4 * uint64_t(rows), elements(rows, "f32"));
  check_disjoint("forward", "row_loss", row_loss, "pred", pred.range);
  check_disjoint("forward", "row_loss", row_loss, "target", target.range);
  check_disjoint("forward", "row_loss", row_loss, "params", params);
  const LossArgs args{kModeForward, uint32_t(kind), rows, cols, positions};
  const vk::Binding bindings[] = {{pred.range, vk::Access::Read},
                                  {target.range, vk::Access::Read},
                                  {params, vk::Access::Read},
                                  {row_loss, vk::Access::Write}};
  rec.dispatch({.pipeline = &pipeline(pred.type, target_type(kind, target), ElemType::F32, reduce_workgroup_size(ctx_.caps(), cols)),
                .bindings = bindings,
                .push_constants = &args,
                .groups = {row_groups(ctx_, rows), 1, 1},
                .label = "loss.forward"});
}

void Loss::mean(vk::Recorder& rec, LossKind kind, const vk::BufferRange& row_loss, const vk::BufferRange& params,
                const vk::BufferRange& loss_out, uint32_t rows, uint32_t cols, uint32_t positions) const {
  if (uint32_t(kind) > uint32_t(LossKind::L1))
    throw Error("loss mean: unknown loss kind " + std::to_string(uint32_t(kind)), "pass a value of LossKind");
  if (rows == 0 || cols == 0)
    throw Error("loss mean of a " + std::to_string(rows) + "×" + std::to_string(cols) + " prediction",
                "rows and cols must be at least 1");
  if (positions == 0 || rows % positions != 0)
    throw Error("loss mean: " + std::to_string(rows) + " rows are not whole samples of " + std::to_string(positions) +
                    " positions",
                "pass rows = samples × positions, positions ≥ 1");
  check_bytes("mean", "row_loss", row_loss, 4 * uint64_t(rows), elements(rows, "f32"));
  check_bytes("mean", "params", params, sizeof(LossParams), "LossParams");
  check_bytes("mean", "loss_out", loss_out, 4, elements(1, "f32"));
  check_disjoint("mean", "loss_out", loss_out, "row_loss", row_loss);
  check_disjoint("mean", "loss_out", loss_out, "params", params);
  const LossArgs args{kModeMean, uint32_t(kind), rows, cols, positions};
  // Binding 1 is unused: row_loss again.
  const vk::Binding bindings[] = {{row_loss, vk::Access::Read},
                                  {row_loss, vk::Access::Read},
                                  {params, vk::Access::Read},
                                  {loss_out, vk::Access::Write}};
  rec.dispatch({.pipeline = &pipeline(ElemType::F32, ElemType::F32, ElemType::F32, reduce_workgroup_size(ctx_.caps(), rows)),
                .bindings = bindings,
                .push_constants = &args,
                .groups = {1, 1, 1},
                .label = "loss.mean"});
}

void Loss::backward(vk::Recorder& rec, LossKind kind, const TensorRef& pred, const TensorRef& target,
                    const vk::BufferRange& params, const TensorRef& dpred, uint32_t rows, uint32_t cols,
                    uint32_t positions) const {
  check("backward", kind, pred, target, params, rows, cols, positions);
  const uint64_t n = uint64_t(rows) * cols;
  check_bytes("backward", "dpred", dpred.range, tensor_bytes(dpred.type, n),
              elements(n, elem_type_name(dpred.type)));
  check_disjoint("backward", "dpred", dpred.range, "pred", pred.range);
  check_disjoint("backward", "dpred", dpred.range, "target", target.range);
  check_disjoint("backward", "dpred", dpred.range, "params", params);
  const LossArgs args{kModeBackward, uint32_t(kind), rows, cols, positions};
  // fp16 rows of odd length are written half a word at a time, by read-modify-write.
  const vk::Binding bindings[] = {
      {pred.range, vk::Access::Read},
      {target.range, vk::Access::Read},
      {params, vk::Access::Read},
      {dpred.range, dpred.type == ElemType::F16 ? vk::Access::ReadWrite : vk::Access::Write}};
  rec.dispatch({.pipeline = &pipeline(pred.type, target_type(kind, target), dpred.type, reduce_workgroup_size(ctx_.caps(), cols)),
                .bindings = bindings,
                .push_constants = &args,
                .groups = {row_groups(ctx_, rows), 1, 1},
                .label = "loss.backward"});
}

}  // namespace vkgrad::kernels
