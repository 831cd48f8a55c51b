// vkgrad::infer::Model — a Graph compiled for inference alone: the forward pass in evaluation
// mode (batch norm on its running statistics, dropout off), weights in FP16 (Precision::Mixed,
// the default; no FP32 copy is kept) or FP32, no gradients, no optimizer state, and an
// activation arena planned for the forward pass only, so it needs a fraction of a Trainer's
// device memory. The graph is the one that was trained: its loss names the predictions, and
// the loss's target is not fed.
//
//   infer::Model model(ctx, g);
//   model.load("checkpoint.safetensors");            // a checkpoint or an exported state_dict
//   std::vector<float> y = model.predict({rows, {{x}}});
//
// Owns its device memory and recorded passes; borrows the Context, which must outlive it. Not
// thread-safe: one thread at a time.
#pragma once

#include "vkgrad/graph/graph.hpp"
#include "vkgrad/graph/memory_plan.hpp"
#include "vkgrad/train/trainer.hpp"

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace vkgrad::infer {

struct ModelCreateInfo {
  uint32_t batch_size = 256;  // rows per forward pass; predict() takes any number of rows
  kernels::Precision precision = kernels::Precision::Mixed;  // Mixed: FP16 weights and activations
  uint64_t memory_budget = 0;  // device memory it may plan for; 0 = the device-local heap's budget
  std::optional<kernels::AttentionVariant> attention_variant;  // forced (tests); unset: the device's choice
  // Inputs read from, and predictions written to, the host's buffers (train::SharedFeed), for
  // record_predict() inside the host's own frame.
  std::vector<train::SharedFeed> shared_feeds;
  std::optional<train::SharedFeed> shared_predictions;
};

class Model {
public:
  // Parameters start as the graph's initializers (seed 0); load() replaces them.
  Model(vk::Context& ctx, const graph::Graph& graph, const ModelCreateInfo& info = {});
  ~Model();
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;

  // The parameters and buffers of a file (io::load_parameters: a training checkpoint, a
  // state_dict from --export-state-dict, or one PyTorch saved with safetensors), strictly by
  // default: a tensor the model lacks, one it has that the file lacks, or one of another shape
  // is an Error naming it (LoadOptions{.strict = false}: skipped and reported instead).
  train::LoadReport load(const std::filesystem::path& path, const train::LoadOptions& options = {});
  // The same from a state in memory (Trainer::save_state); optimizer state in it is ignored.
  train::LoadReport load(const train::TrainingState& state, const train::LoadOptions& options = {});

  // The predictions for the batch's inputs (one Feed per graph feed but the loss target, in
  // order), rows × features floats; any number of rows, run batch_size() at a time. Waits.
  std::vector<float> predict(const train::Batch& batch);

  // The forward pass recorded into the host's command buffer (see Trainer::record_predict).
  vk::HostDependencies record_predict(VkCommandBuffer cmd, uint32_t rows,
                                      const train::HostRecordingOptions& options = {});

  std::vector<float> parameter(const std::string& name);  // as FP32 (from FP16 where so kept)
  std::vector<std::string> parameter_names() const;
  train::Counters counters() const;  // device_bytes by category: no gradients, no optimizer state
  const graph::MemoryPlan& memory_plan() const;
  uint32_t batch_size() const;

private:
  std::unique_ptr<train::Trainer> trainer_;
};

}  // namespace vkgrad::infer
