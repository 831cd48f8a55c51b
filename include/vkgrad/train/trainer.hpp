// vkgrad::train::Trainer — a Graph compiled into recorded passes, trained one step per submit.
//
// Owns the device memory of the model (FP32 masters, FP16 working copies, gradients, optimizer
// state, the activation arena planned by the memory planner), the per-step device state with
// the loss scale, and a ring of upload slots. Compiling records the forward, backward,
// loss-scale and update passes once; step() copies a batch into a staging slot and submits
// [upload, forward, backward, loss-scale, update, readout] in one vkQueueSubmit2 without
// waiting, unless the ring is full. No device value is read per step: the loss scale, skip
// decision, learning rate and counters advance on the device. Borrows the Context, which must
// outlive it. Not thread-safe: one thread at a time.
#pragma once

#include "vkgrad/graph/graph.hpp"
#include "vkgrad/graph/memory_plan.hpp"
#include "vkgrad/train/step_state.hpp"
#include "vkgrad/train/config.hpp"
#include "vkgrad/vk/host_recording.hpp"
#include "vkgrad/vk/submit_sync.hpp"

#include <array>
#include <map>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace vkgrad::vk {
class Context;
}
namespace vkgrad::infer {
class Model;
}

namespace vkgrad::train {

// One graph feed's data for a batch: `values` (rows × features floats) for an input, `labels`
// (rows × per-sample count int32 indices: class labels, token ids) for labels.
struct Feed {
  std::span<const float> values;
  std::span<const int32_t> labels;
};

// Data for one step, one Feed per Graph::feeds() entry in order. `rows` may be below the
// compiled batch size (the last batch of an epoch): the loss then averages over those rows
// only and the others contribute nothing.
struct Batch {
  uint32_t rows = 0;
  std::vector<Feed> feeds;
  // Testing and drills: poison one gradient with inf in this step, as an overflow would.
  bool inject_nonfinite_gradient = false;
};

struct HostRecordingOptions {
  // false: the host places HostDependencies::before and ::after itself (returned all the same).
  bool place_dependencies = true;
};

// The newest completed step, as the device recorded it.
struct Metrics {
  bool valid = false;         // false until a step has completed
  uint64_t steps = 0;         // steps completed, skipped included
  uint64_t optimizer_steps = 0;
  float loss = 0.0f;          // that step's mean loss
  float loss_scale = 0.0f;    // the scale that step used
  bool skipped = false;       // that step was not applied
  uint64_t skipped_steps = 0; // all skipped steps (gradient overflow or non-finite loss)
  uint64_t nonfinite_losses = 0;
  uint64_t nonfinite_inputs = 0;  // steps whose float inputs (data or targets) held inf or NaN
  float grad_norm = 0.0f;     // global norm of the unscaled gradients
};

struct Counters {
  uint64_t submits = 0;
  uint64_t blocking_reads = 0;     // waits on the device for data (metrics(Wait), parameter reads, evaluate)
  uint64_t backpressure_waits = 0; // step() found its ring slot still running and waited
  uint64_t pipeline_creations = 0; // by the Context's registry so far
  std::array<uint64_t, size_t(graph::MemoryCategory::Count)> device_bytes{};  // by category
  uint64_t planned_arena_bytes = 0;  // activations and workspace after sharing
  // Data parallel: updates whose gradients were summed over the ranks, and the host's time in
  // them (waiting for the backward pass, then for the other ranks' gradients).
  uint64_t gradient_exchanges = 0;
  double exchange_wait_seconds = 0;
  // Of that: the time some gradient bucket's sum was in flight, and the part of it during which
  // the backward pass still ran on the device (hidden behind it).
  double allreduce_seconds = 0;
  double allreduce_hidden_seconds = 0;
  uint32_t gradient_buckets = 0;  // per update (TrainerCreateInfo::gradient_bucket_bytes)
};

enum class Wait { No, Yes };

// GPU time of one recorded pass in the newest completed step, and of each dispatch in it.
struct PassProfile {
  std::string pass;  // "forward", "backward", "loss_scale", "update"
  double ms = 0;     // sum of its dispatches
  std::vector<std::pair<std::string, double>> dispatches;  // kernel label, ms
};

// Everything needed to resume training bitwise: FP32 masters and buffers (running statistics)
// under their graph names, the
// optimizer's moments as "optim.exp_avg.NAME", "optim.exp_avg_sq.NAME" (Adam, AdamW) or
// "optim.momentum_buffer.NAME" (SGD with momentum), and the device's step state (loss scale,
// growth tracker, iteration, optimizer step, counters).
// How Trainer::load_state treats a state that does not match the trainer. Strict (the default,
// as PyTorch's load_state_dict): a tensor the trainer lacks (another model's, or optimizer state
// of another optimizer) or one of its tensors the state lacks is an Error naming it; not
// strict: the first are skipped, the second keep their current values, and both are reported.
// A tensor of the wrong shape is an Error either way.
// A state saved by a trainer of another precision or optimizer is an Error too, unless allowed
// (the moments of Adam and AdamW look alike; the loss scale of a mixed run means nothing to an
// FP32 one): then it loads as it is.
struct LoadOptions {
  bool strict = true;
  bool allow_precision_change = false;
  bool allow_optimizer_change = false;
};
struct LoadReport {
  std::vector<std::string> unexpected;  // in the state, not in the trainer: skipped
  std::vector<std::string> missing;     // in the trainer, not in the state: left as they were
};

struct TrainingState {
  struct Tensor {
    std::vector<uint64_t> shape;
    std::vector<float> values;
    bool integer = false;  // a count (num_batches_tracked): a state_dict holds it as int64
  };
  std::map<std::string, Tensor> tensors;
  TrainState device;
  // What trained it: "mixed" or "fp32", and "sgd", "adam" or "adamw"; empty where unknown (a
  // file from an older vkgrad, a state_dict): then nothing is checked.
  std::string precision, optimizer;
};

class Trainer {
public:
  Trainer(vk::Context& ctx, const graph::Graph& graph, const TrainerCreateInfo& info);
  ~Trainer();
  Trainer(const Trainer&) = delete;
  Trainer& operator=(const Trainer&) = delete;

  // Queues one training step (one micro-batch with gradient accumulation); returns once the
  // batch is copied into its staging slot. Its submission waits for and signals the timeline
  // points of `sync` (a host orders its own work around the step with them).
  void step(const Batch& batch, const vk::SubmitSync& sync = {});
  // The newest completed step without waiting; with Wait::Yes, after every queued step.
  Metrics metrics(Wait wait = Wait::No);

  // Records one training step (forward, backward, loss-scale, update) into the host's `cmd`
  // (recording, outside a render pass, for a queue family with compute on this device) for the
  // host to submit where and when it likes; `rows` (<= batch_size) of every feed are read from
  // the shared buffers (TrainerCreateInfo::shared_feeds: all feeds must be shared) as the
  // host's earlier commands left them. Returns the dependencies placed before and after the
  // step (see vk::HostDependencies). May be called again for every frame; with step() in
  // between, the host orders its submissions after the trainer's (SubmitSync). Needs
  // accumulation_steps = 1. Each recording rereads nothing on the host: it is cheap.
  vk::HostDependencies record_step(VkCommandBuffer cmd, uint32_t rows, const HostRecordingOptions& options = {});
  // Records an inference pass (the forward in evaluation mode) into the host's `cmd`: `rows`
  // of every input from the shared buffers, the predictions into shared_predictions, between
  // the returned dependencies, as record_step. The loss target need not be shared.
  vk::HostDependencies record_predict(VkCommandBuffer cmd, uint32_t rows, const HostRecordingOptions& options = {});
  // The metrics of the newest record_step() step, once the host's submission has completed
  // (before that it returns the previous ones). Counted into metrics() and take_history().
  Metrics host_step_metrics();

  // Every step completed since the last call, oldest first, as the device recorded them
  // (without waiting). For traces: each step appears exactly once. At most the newest 65,536
  // are kept between calls (a run that never asks holds bounded memory).
  std::vector<Metrics> take_history();

  // Forward only, sharing the weights; waits for the result. Evaluation mode (batch norm with
  // its running statistics; nothing trains or updates): returns the loss graph's predictions,
  // rows × features, as floats. The batch holds the inputs only (or every feed, the loss target
  // included) and any number of rows: they run the compiled batch size at a time.
  std::vector<float> predict(const Batch& batch);
  // The mean loss over the batch's rows and the predictions (labels or targets required).
  struct Evaluation {
    float loss = 0.0f;
    std::vector<float> predictions;
  };
  Evaluation evaluate(const Batch& batch);

  // FP32 master values of a parameter (waits for queued steps).
  std::vector<float> parameter(const std::string& name);
  // The FP32 gradient of a parameter from the newest step, unscaled (waits for queued steps).
  std::vector<float> gradient(const std::string& name);
  // Replaces a parameter's master (and working copy) values, e.g. from a checkpoint.
  void set_parameter(const std::string& name, std::span<const float> values);
  std::vector<std::string> parameter_names() const;

  // The whole training state (waits for queued steps), and its restoration: a trainer built
  // from the same graph and configuration continues exactly where the saved one stopped, and
  // metrics() reports the restored step counts. Nothing changes when it throws.
  TrainingState save_state();
  LoadReport load_state(const TrainingState& state, const LoadOptions& options = {});

  // With TrainerCreateInfo::profile: the passes of the newest step (waits for queued steps);
  // empty without it or where the queue has no timestamps.
  std::vector<PassProfile> profile();

  Counters counters() const;
  const graph::MemoryPlan& memory_plan() const;
  uint32_t batch_size() const;

  struct Impl;

private:
  friend class infer::Model;  // an inference-only trainer: see vkgrad/infer/model.hpp
  struct InferenceOnly {};
  Trainer(vk::Context& ctx, const graph::Graph& graph, const TrainerCreateInfo& info, InferenceOnly);

  std::unique_ptr<Impl> impl_;
};

}  // namespace vkgrad::train
