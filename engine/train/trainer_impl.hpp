// Trainer internals shared by setup.cpp (layout and memory), passes.cpp (the recorded passes)
// and trainer.cpp (the step ring and host reads).
#pragma once

#include "ops/losses.hpp"
#include "ops/op.hpp"
#include "vkgrad/kernels/loss_scale.hpp"
#include "vkgrad/kernels/optimizer.hpp"
#include "vkgrad/train/step_state.hpp"
#include "vkgrad/train/trainer.hpp"
#include "vkgrad/vk/buffer.hpp"
#include "vkgrad/vk/commands.hpp"
#include "vkgrad/vk/context.hpp"
#include "vkgrad/vk/recorder.hpp"

#include <deque>
#include <functional>
#include <optional>
#include <vector>

namespace vkgrad::train {

// Implements ops::TensorStore: where each tensor of the compiled graph lives.
struct Trainer::Impl final : ops::TensorStore {
  // inference: forward only (infer::Model): parameters in the precision's type alone (FP16
  // under mixed precision, no FP32 masters), no gradients, optimizer state or training passes,
  // and an arena planned for the forward pass.
  Impl(vk::Context& ctx, const graph::Graph& graph, const TrainerCreateInfo& info, bool inference = false);
  ~Impl();

  struct Slot;
  struct FeedBuffer;

  // --- setup.cpp ---
  void lay_out_parameters();
  void lay_out_buffers();
  void lay_out_node_memory();
  void plan_optimizer_runs();
  void plan_memory();
  void initialize_state();
  // --- passes.cpp ---
  void record_passes();
  // A training pass recorded once (timed for profile() where info.profile).
  VkCommandBuffer record_pass(const char* name, const std::function<void(vk::Recorder&)>& body);
  void record_forward(vk::Recorder& rec, bool training);
  // The whole backward pass into `rec` (record_step()).
  void record_backward(vk::Recorder& rec, bool first_micro_batch);
  // The backward pass as replayed by step(): one command buffer per gradient bucket, each ending
  // with its bucket's copy out (data parallel), else one.
  std::vector<VkCommandBuffer> record_backward_segments(bool first_micro_batch);
  ops::Walk begin_backward(vk::Recorder& rec, bool first_micro_batch);
  // The backward of nodes [last, end) in descending order, where their output has a gradient.
  void backward_nodes(ops::Walk& walk, size_t end, size_t last);
  void record_upload(vk::Recorder& rec, const Slot& slot);
  void record_loss_scale(vk::Recorder& rec);
  void record_update(vk::Recorder& rec);
  void share_feed(FeedBuffer& f, const SharedFeed& shared, uint64_t bytes);
  // --- data_parallel.cpp ---
  void set_up_data_parallel();
  void plan_buckets();
  void record_bucket_out(vk::Recorder& rec, size_t bucket);
  void broadcast_parameters();
  // The rows of this step over every rank (a collective: every rank's step() calls it).
  uint32_t global_rows(uint32_t rows);
  // Submits a data-parallel update's passes, summing each bucket over the ranks as soon as its
  // backward segment has finished; `inject_nonfinite` poisons this rank's gradients before the
  // sum (Batch's overflow drill).
  void step_data_parallel(Slot& slot, const std::vector<VkCommandBuffer>& backward_pass, bool inject_nonfinite,
                          const vk::SubmitSync& sync);
  ops::LossBuffers loss_buffers() const;

  // --- trainer.cpp ---
  // mean_rows: what the loss divides by where not the batch's rows (data parallel: the global batch's).
  void write_staging(Slot& slot, const Batch& batch, const char* what, uint32_t micro_batch = 0, uint32_t mean_rows = 0);
  void wait_slot(uint32_t slot, bool count_backpressure);
  void absorb(const StepRecord& r);
  void poll();
  void submit(std::vector<VkCommandBuffer> commands, vk::Fence& fence, const vk::SubmitSync& sync = {});

  struct Param {
    uint32_t tensor = 0;
    uint64_t offset = 0;  // elements into the flat buffers (aligned for binding)
    uint64_t count = 0;
  };
  struct FeedBuffer {
    uint32_t tensor = 0;
    bool labels = false;
    uint64_t row_bytes = 0;    // bytes of one row in staging and on the device
    uint64_t row_values = 0;   // values per row
    kernels::ElemType type = kernels::ElemType::F32;  // labels are int32 whatever this says
    vk::Buffer device;         // fp32 values or int32 labels, [batch rows]; none where shared
    vk::BufferRange range;     // where the passes read it: `device`, or the host's shared range
    bool shared = false;
    uint64_t staging_offset = 0;
    // Labels: values must lie in [0, bound) (what reads them indexes with them); 0: unchecked.
    uint32_t bound = 0;
    std::string bound_reason;  // "the 10 classes of the cross-entropy"
  };
  // The end of every staging buffer: the step's scalars, which the upload copies into the state.
  struct StagingTail {
    uint32_t valid_rows = 0;
    uint32_t inject_nonfinite = 0;
    uint32_t micro_batch = 0;  // the step()'s index within its update (dropout's counter)
    uint32_t mean_rows = 0;    // data parallel: the global batch's rows (else 0)
  };
  // Staging, upload and fence of one step in flight (or of evaluation).
  struct Slot {
    vk::Buffer staging;
    vk::Buffer record;                          // training slots: the step's StepRecord, read back
    VkCommandBuffer upload = VK_NULL_HANDLE;    // owned by `pool`
    VkCommandBuffer readout = VK_NULL_HANDLE;   // training slots: the record copied out
    vk::Fence fence;
    bool in_flight = false;
    bool has_record = false;  // the submission ended an update and so wrote a record
  };

  // ops::TensorStore
  kernels::TensorRef value(uint32_t tensor) const override;
  kernels::TensorRef grad(uint32_t tensor) const override;
  kernels::TensorRef workspace(uint32_t node) const override;
  bool requires_grad(uint32_t tensor) const override { return grad_needed[tensor]; }
  vk::BufferRange node_constants(uint32_t node) const override;
  vk::BufferRange node_scratch(uint32_t node) const override;

  kernels::TensorRef param_value(uint32_t tensor) const;   // what forward reads
  kernels::TensorRef param_grad(uint32_t tensor) const;    // FP32 gradient
  kernels::TensorRef buffer_value(uint32_t tensor) const;  // FP32 persistent state
  kernels::TensorRef target() const;                       // the loss target as fed
  uint32_t base(uint32_t tensor) const;                    // reshape aliases resolved
  uint64_t features(uint32_t tensor) const;
  const Param& param(const std::string& name) const;
  std::vector<float> read_parameter(const Param& p) const;  // FP32 values (waits for the device)

  vk::Context& ctx;
  graph::Graph graph;
  TrainerCreateInfo info;
  bool inference = false;
  const char* api = "Trainer";  // the public type, in errors: "Trainer" or "Model"
  uint32_t rows = 0;
  kernels::ElemType act_type = kernels::ElemType::F16;
  bool mixed = true;

  ops::Kernels op_kernels;
  kernels::LossScale loss_scale;
  kernels::Optimizer optimizer;
  kernels::AdvanceArgs advance_args;
  kernels::OptimizerArgs optimizer_args;
  // Contiguous runs of parameters in one group: one optimizer dispatch each.
  struct OptimizerRun {
    uint64_t offset = 0;  // elements into the flat buffers
    kernels::OptimizerArgs args;  // args.n: the run's elements
  };
  std::vector<OptimizerRun> optimizer_runs;

  std::vector<Param> params;
  std::vector<Param> buffer_slots;  // graph buffers in state_buffers (fp32)
  vk::Buffer state_buffers;
  // Per node: its ops::NodeMemory in node_memory_buffer (empty ranges: none).
  struct NodeRanges {
    vk::BufferRange constants, scratch;
  };
  std::vector<NodeRanges> node_memory;
  vk::Buffer node_memory_buffer;
  uint64_t param_elements = 0;
  vk::Buffer masters, grads, exp_avg, exp_avg_sq, working_copy;

  vk::Buffer state, loss_value, row_loss, partials, device_record;
  vk::Buffer host_record;  // record_step()'s StepRecord, for the host to read after its submission
  std::vector<FeedBuffer> feeds;
  uint64_t staging_bytes = 0;

  graph::MemoryPlan plan;
  vk::Buffer arena;
  std::vector<std::optional<kernels::TensorRef>> values;  // per tensor
  std::vector<std::optional<kernels::TensorRef>> grads_of;
  std::vector<std::optional<kernels::TensorRef>> workspaces;  // per node: backward scratch
  std::vector<bool> grad_needed;  // per tensor: a parameter, or computed from one

  vk::CommandPool pool;  // owns every command buffer below
  VkCommandBuffer forward = VK_NULL_HANDLE, scale_pass = VK_NULL_HANDLE, update = VK_NULL_HANDLE;
  // The backward pass's segments (record_backward_segments()); backward_accumulate: for later
  // micro-batches, whose gradients add up.
  std::vector<VkCommandBuffer> backward, backward_accumulate;
  // With info.profile: the passes' recorders, which own their timestamp queries, by pass name.
  std::vector<std::pair<std::string, std::unique_ptr<vk::Recorder>>> profiled;
  std::vector<Slot> slots;
  uint64_t queued = 0;

  // Evaluation: its own staging and readout, sharing the forward pass.
  Slot eval;
  vk::Buffer eval_out;  // readback of the predictions
  VkCommandBuffer eval_forward = VK_NULL_HANDLE;  // the forward in evaluation mode
  VkCommandBuffer eval_copy = VK_NULL_HANDLE;

  // Data parallel: the gradients and the loss, copied out bucket by bucket as the backward pass
  // finishes them, summed over the ranks on the host and copied back before the loss-scale pass.
  dist::Communicator* comm = nullptr;
  // Parameters whose gradients are final once the backward has run down to node `last_node`,
  // at least info.gradient_bucket_bytes of them (the last bucket: what is left); bucket 0 also
  // carries the loss and then the buffers, after its gradients.
  struct Bucket {
    std::vector<uint32_t> params;  // indices into `params`
    size_t last_node = 0;
    uint64_t offset = 0, values = 0;  // floats into `exchange`
  };
  std::vector<Bucket> buckets;
  uint64_t exchange_loss = 0;    // floats into `exchange`: the loss (the buffers follow it)
  uint64_t exchange_values = 0;  // floats in `exchange`
  std::vector<vk::Fence> bucket_fences;  // per bucket: its backward segment finished
  size_t segments_in_flight = 0;         // submitted and not yet waited for (a step that threw)
  vk::Buffer exchange;
  VkCommandBuffer exchange_in = VK_NULL_HANDLE;

  Metrics newest;
  // Steps not yet taken by take_history(): the newest kHistoryCap, so that a run that never
  // takes them holds bounded memory.
  static constexpr size_t kHistoryCap = size_t(1) << 16;
  std::deque<Metrics> history;
  Counters counters;
};

}  // namespace vkgrad::train
