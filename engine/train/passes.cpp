// The recorded passes: forward, backward (autodiff over the graph), loss-scale and update, the
// per-slot upload and readout, and evaluation.
#include "trainer_impl.hpp"

#include <cstddef>
#include <functional>
#include <memory>

namespace vkgrad::train {

void Trainer::Impl::record_upload(vk::Recorder& rec, const Slot& s) {
  for (const auto& f : feeds)
    if (!f.shared) rec.copy(s.staging.range(f.staging_offset, rows * f.row_bytes), f.range.slice(0, rows * f.row_bytes));
  const uint64_t tail = staging_bytes - sizeof(StagingTail);
  rec.copy(s.staging.range(tail + offsetof(StagingTail, valid_rows), 4), state.range(offsetof(TrainState, valid_rows), 4));
  rec.copy(s.staging.range(tail + offsetof(StagingTail, inject_nonfinite), 4),
           state.range(offsetof(TrainState, inject_nonfinite), 4));
  rec.copy(s.staging.range(tail + offsetof(StagingTail, micro_batch), 4), state.range(offsetof(TrainState, micro_batch), 4));
  rec.copy(s.staging.range(tail + offsetof(StagingTail, mean_rows), 4), state.range(offsetof(TrainState, mean_rows), 4));
}

ops::LossBuffers Trainer::Impl::loss_buffers() const {
  // The loss kernels read {scale, valid_rows, mean_rows} straight out of the step state.
  static_assert(offsetof(TrainState, valid_rows) - offsetof(TrainState, scale) == offsetof(kernels::LossParams, valid_rows));
  static_assert(offsetof(TrainState, mean_rows) - offsetof(TrainState, scale) == offsetof(kernels::LossParams, mean_rows));
  return {target(), state.range(offsetof(TrainState, scale), sizeof(kernels::LossParams)), row_loss.range(),
          loss_value.range()};
}

void Trainer::Impl::record_forward(vk::Recorder& rec, bool training) {
  // Inf and NaN in a step's data are counted on the device, so that a host that never sees the
  // data (shared feeds) still learns why the loss went non-finite.
  if (training)
    for (const auto& f : feeds)
      if (!f.labels)
        loss_scale.check_inputs(rec, state.range(), f.range, rows, uint32_t(f.row_values), f.type == kernels::ElemType::F16);
  ops::Walk walk(graph, *this, op_kernels, rec, rows, training);
  walk.step_params = loss_buffers().params;
  walk.step_state = state.range();
  walk.seed = info.seed;
  const auto& nodes = graph.nodes();
  for (size_t i = 0; i < nodes.size(); ++i) ops::unit(nodes[i].attr).forward(nodes[i], uint32_t(i), walk);
  ops::loss_forward(*graph.loss(), walk, loss_buffers());
}

ops::Walk Trainer::Impl::begin_backward(vk::Recorder& rec, bool first_micro_batch) {
  // Parameter gradients always accumulate, so they start at zero with each update's first
  // micro-batch.
  if (first_micro_batch) rec.fill(grads.range(), 0u);
  ops::Walk walk(graph, *this, op_kernels, rec, rows);
  walk.step_params = loss_buffers().params;
  walk.step_state = state.range();
  walk.seed = info.seed;
  ops::loss_backward(*graph.loss(), walk, loss_buffers());
  return walk;
}

void Trainer::Impl::backward_nodes(ops::Walk& walk, size_t end, size_t last) {
  const auto& nodes = graph.nodes();
  for (size_t i = end; i-- > last;) {
    const auto& n = nodes[i];
    if (!requires_grad(n.output()) || !walk.has_grad(n.output())) continue;
    ops::unit(n.attr).backward(n, uint32_t(i), walk);
  }
}

void Trainer::Impl::record_backward(vk::Recorder& rec, bool first_micro_batch) {
  ops::Walk walk = begin_backward(rec, first_micro_batch);
  backward_nodes(walk, graph.nodes().size(), 0);
}

std::vector<VkCommandBuffer> Trainer::Impl::record_backward_segments(bool first_micro_batch) {
  const char* name = first_micro_batch ? "backward" : "backward_accumulate";
  if (buckets.empty()) return {record_pass(name, [&](vk::Recorder& rec) { record_backward(rec, first_micro_batch); })};
  std::vector<VkCommandBuffer> segments;
  std::unique_ptr<ops::Walk> walk;
  size_t end = graph.nodes().size();
  for (size_t k = 0; k < buckets.size(); ++k)
    segments.push_back(record_pass(name, [&](vk::Recorder& rec) {
      walk = walk ? std::make_unique<ops::Walk>(*walk, rec) : std::make_unique<ops::Walk>(begin_backward(rec, first_micro_batch));
      backward_nodes(*walk, end, buckets[k].last_node);
      end = buckets[k].last_node;
      record_bucket_out(rec, k);
    }));
  return segments;
}

void Trainer::Impl::record_loss_scale(vk::Recorder& rec) {
  loss_scale.unscale(rec, state.range(), grads.range(), uint32_t(param_elements), partials.range(), loss_value.range(),
                     info.optimizer.max_grad_norm, info.accumulation_steps);
}

void Trainer::Impl::record_update(vk::Recorder& rec) {
  for (const OptimizerRun& run : optimizer_runs) {
    const uint64_t at = 4 * run.offset, bytes = 4 * run.args.n;
    const auto weights = masters.range(at, bytes);
    const auto m = exp_avg ? exp_avg.range(at, bytes) : weights;
    const auto v = exp_avg_sq ? exp_avg_sq.range(at, bytes) : m;
    const auto copy = mixed ? std::optional(working_copy.range(2 * run.offset,
                                                               kernels::tensor_bytes(kernels::ElemType::F16, run.args.n)))
                            : std::nullopt;
    optimizer.record(rec, run.args, state.range(), weights, grads.range(at, bytes), m, v, copy);
  }
  loss_scale.advance(rec, state.range(), device_record.range(), advance_args);
}

VkCommandBuffer Trainer::Impl::record_pass(const char* name, const std::function<void(vk::Recorder&)>& body) {
  // Hazard tracking does not cross command buffers: every pass starts with a full barrier.
  auto recorded = pool.record({.timestamps = info.profile, .begin_with_barrier = true}, true, body);
  if (recorded.timed) profiled.emplace_back(name, std::move(recorded.timed));
  return recorded.handle;
}

void Trainer::Impl::record_passes() {
  const vk::RecorderOptions opts{.begin_with_barrier = true};
  // Evaluation: its own staging and upload, the forward in evaluation mode, then the predictions
  // and the loss copied out.
  const auto pred = value(graph.loss()->pred);
  eval.staging = vk::Buffer(ctx, {.size = staging_bytes, .use = vk::MemoryUse::Upload, .name = "evaluation staging"});
  eval_out = vk::Buffer(ctx, {.size = pred.range.size + 4, .use = vk::MemoryUse::Readback, .name = "evaluation output"});
  eval.upload = pool.record(opts, false, [&](vk::Recorder& rec) { record_upload(rec, eval); }).handle;
  eval_forward = pool.record(opts, false, [&](vk::Recorder& rec) { record_forward(rec, false); }).handle;
  eval_copy = pool.record(opts, false, [&](vk::Recorder& rec) {
    rec.copy(pred.range, eval_out.range(0, pred.range.size));
    rec.copy(loss_value.range(), eval_out.range(pred.range.size, 4));
    rec.host_read(eval_out.range());
  }).handle;
  eval.fence = vk::Fence(ctx);
  if (inference) return;

  forward = record_pass("forward", [&](vk::Recorder& rec) { record_forward(rec, true); });
  backward = record_backward_segments(true);
  if (info.accumulation_steps > 1) backward_accumulate = record_backward_segments(false);
  scale_pass = record_pass("loss_scale", [&](vk::Recorder& rec) { record_loss_scale(rec); });
  update = record_pass("update", [&](vk::Recorder& rec) { record_update(rec); });

  slots.resize(info.ring_slots);
  for (Slot& s : slots) {
    s.staging = vk::Buffer(ctx, {.size = staging_bytes, .use = vk::MemoryUse::Upload, .name = "batch staging"});
    s.record = vk::Buffer(ctx, {.size = sizeof(StepRecord), .use = vk::MemoryUse::Readback, .name = "step record"});
    s.upload = pool.record(opts, false, [&](vk::Recorder& rec) { record_upload(rec, s); }).handle;
    s.readout = pool.record(opts, false, [&](vk::Recorder& rec) {
      rec.copy(device_record.range(), s.record.range());
      rec.host_read(s.record.range());
    }).handle;
    s.fence = vk::Fence(ctx);
  }
}

}  // namespace vkgrad::train
