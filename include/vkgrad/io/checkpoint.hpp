// Checkpoints in safetensors format: a TrainingState plus the caller's metadata, saved
// atomically, and loaded back with every name, dtype and shape checked.
//
// Layout: parameters under their PyTorch state_dict names (F32), optimizer moments under
// "optim.exp_avg.NAME" / "optim.exp_avg_sq.NAME" / "optim.momentum_buffer.NAME", the loss-scale
// state as "scaler.scale" (F32 [1]) and "scaler.growth_tracker" (I64 [1]); step counters and
// the learning rate in the header metadata under "vkgrad.*" (floats in shortest round-trip
// form, so loading is exact), with the precision and optimizer that trained it. Stateless functions; thread-safe for distinct paths.
#pragma once

#include "vkgrad/train/trainer.hpp"

#include <filesystem>
#include <map>
#include <string>

namespace vkgrad::io {

using Metadata = std::map<std::string, std::string>;

void save_checkpoint(const std::filesystem::path& path, const train::TrainingState& state, const Metadata& metadata = {});
// Returns the state; the caller's metadata (keys not starting with "vkgrad.") into `metadata`.
train::TrainingState load_checkpoint(const std::filesystem::path& path, Metadata* metadata = nullptr);
// Parameters only, loadable by PyTorch's load_state_dict(strict=True) for the matching module.
void export_state_dict(const std::filesystem::path& path, const train::TrainingState& state);
// The parameters and buffers of either file above (a checkpoint's optimizer and loss-scale
// state left out), or of a state_dict PyTorch saved with safetensors (F32, F16, BF16 or F64
// floats; integer buffers such as num_batches_tracked as counts). For inference models and for
// starting training from trained weights.
train::TrainingState load_parameters(const std::filesystem::path& path);

}  // namespace vkgrad::io
