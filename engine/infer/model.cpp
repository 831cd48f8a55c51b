#include "vkgrad/infer/model.hpp"

#include "vkgrad/io/checkpoint.hpp"

namespace vkgrad::infer {

Model::Model(vk::Context& ctx, const graph::Graph& graph, const ModelCreateInfo& info)
    : trainer_(new train::Trainer(ctx, graph,
                                  {.batch_size = info.batch_size,
                                   .precision = info.precision,
                                   .memory_budget = info.memory_budget,
                                   .attention_variant = info.attention_variant,
                                   .shared_feeds = info.shared_feeds,
                                   .shared_predictions = info.shared_predictions},
                                  train::Trainer::InferenceOnly{})) {}

Model::~Model() = default;

train::LoadReport Model::load(const std::filesystem::path& path, const train::LoadOptions& options) {
  return trainer_->load_state(io::load_parameters(path), options);
}

train::LoadReport Model::load(const train::TrainingState& state, const train::LoadOptions& options) {
  train::TrainingState parameters;
  for (const auto& [name, t] : state.tensors)
    if (name.rfind("optim.", 0) != 0) parameters.tensors.emplace(name, t);
  return trainer_->load_state(parameters, options);
}

std::vector<float> Model::predict(const train::Batch& batch) { return trainer_->predict(batch); }

vk::HostDependencies Model::record_predict(VkCommandBuffer cmd, uint32_t rows, const train::HostRecordingOptions& options) {
  return trainer_->record_predict(cmd, rows, options);
}

std::vector<float> Model::parameter(const std::string& name) { return trainer_->parameter(name); }

std::vector<std::string> Model::parameter_names() const { return trainer_->parameter_names(); }

train::Counters Model::counters() const { return trainer_->counters(); }

const graph::MemoryPlan& Model::memory_plan() const { return trainer_->memory_plan(); }

uint32_t Model::batch_size() const { return trainer_->batch_size(); }

}  // namespace vkgrad::infer
