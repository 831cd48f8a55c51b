#include "vkgrad/io/checkpoint.hpp"

#include "vkgrad/error.hpp"
#include "vkgrad/io/safetensors.hpp"

#include <charconv>
#include <cmath>
#include <cstring>

namespace vkgrad::io {
namespace {

// The device-state fields kept in the metadata, by name.
struct Field {
  const char* key;
  uint32_t train::TrainState::*u32;
  float train::TrainState::*f32;
};
const Field kFields[] = {
    {"vkgrad.iteration", &train::TrainState::iteration, nullptr},
    {"vkgrad.optimizer_step", &train::TrainState::optimizer_step, nullptr},
    {"vkgrad.skipped_steps", &train::TrainState::skipped_steps, nullptr},
    {"vkgrad.nonfinite_losses", &train::TrainState::nonfinite_losses, nullptr},
    {"vkgrad.lr", nullptr, &train::TrainState::lr},
    {"vkgrad.loss", nullptr, &train::TrainState::loss},
    {"vkgrad.grad_norm", nullptr, &train::TrainState::grad_norm},
};

std::string exact(float v) {
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

template <typename T>
T parse(const std::string& s, const std::filesystem::path& path, const char* key) {
  T v{};
  const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (r.ec != std::errc() || r.ptr != s.data() + s.size())
    throw Error(path.string() + ": metadata '" + key + "' is '" + s + "', not a number", "the checkpoint is damaged");
  return v;
}

std::span<const std::byte> bytes_of(const std::vector<float>& v) { return std::as_bytes(std::span(v)); }

}  // namespace

void save_checkpoint(const std::filesystem::path& path, const train::TrainingState& state, const Metadata& metadata) {
  std::vector<TensorToWrite> tensors;
  for (const auto& [name, t] : state.tensors) tensors.push_back({name, Dtype::F32, t.shape, bytes_of(t.values)});
  const std::vector<float> scale = {state.device.scale};
  const int64_t tracker = state.device.growth_tracker;
  tensors.push_back({"scaler.scale", Dtype::F32, {1}, bytes_of(scale)});
  tensors.push_back({"scaler.growth_tracker", Dtype::I64, {1}, std::as_bytes(std::span(&tracker, 1))});
  Metadata meta = metadata;
  for (const Field& f : kFields)
    meta[f.key] = f.u32 ? std::to_string(state.device.*f.u32) : exact(state.device.*f.f32);
  meta["vkgrad.nonfinite_inputs"] = std::to_string(state.device.nonfinite_inputs);
  if (!state.precision.empty()) meta["vkgrad.precision"] = state.precision;
  if (!state.optimizer.empty()) meta["vkgrad.optimizer"] = state.optimizer;
  meta["format"] = "pt";
  save_safetensors(path, tensors, meta);
}

train::TrainingState load_checkpoint(const std::filesystem::path& path, Metadata* metadata) {
  const auto file = SafetensorsFile::load(path);
  train::TrainingState st;
  for (const auto& name : file.names()) {
    if (name.rfind("scaler.", 0) == 0) continue;
    if (file.tensor(name).dtype != Dtype::F32)
      throw Error(path.string() + ": tensor '" + name + "' is " + std::string(dtype_name(file.tensor(name).dtype)) +
                      ", checkpoints hold F32",
                  "load a checkpoint vkgrad saved");
    st.tensors[name] = {file.tensor(name).shape, file.to_f32(name)};
  }
  if (!file.contains("scaler.scale") || !file.contains("scaler.growth_tracker"))
    throw Error(path.string() + " has no loss-scale state (scaler.scale, scaler.growth_tracker)",
                "this is a parameters-only file: a training checkpoint is needed to resume");
  const auto scale = file.to_f32("scaler.scale");
  const auto tracker = file.to_i64("scaler.growth_tracker");
  if (scale.size() != 1 || tracker.size() != 1 || !(scale[0] > 0.0f) || !std::isfinite(scale[0]) || tracker[0] < 0 ||
      tracker[0] > int64_t(UINT32_MAX))
    throw Error(path.string() + ": the loss-scale state must be one finite positive scale and one count in [0, 2^32)",
                "the checkpoint is damaged; load another");
  st.device.scale = scale[0];
  st.device.growth_tracker = uint32_t(tracker[0]);
  const auto& meta = file.metadata();
  for (const Field& f : kFields) {
    const auto it = meta.find(f.key);
    if (it == meta.end())
      throw Error(path.string() + " lacks metadata '" + f.key + "'", "load a checkpoint vkgrad saved");
    if (f.u32)
      st.device.*f.u32 = parse<uint32_t>(it->second, path, f.key);
    else
      st.device.*f.f32 = parse<float>(it->second, path, f.key);
  }
  st.device.clip_coef = 1.0f;
  // Absent in checkpoints of older versions: then none counted, or unknown and not checked.
  if (const auto it = meta.find("vkgrad.nonfinite_inputs"); it != meta.end())
    st.device.nonfinite_inputs = parse<uint32_t>(it->second, path, "vkgrad.nonfinite_inputs");
  if (const auto it = meta.find("vkgrad.precision"); it != meta.end()) st.precision = it->second;
  if (const auto it = meta.find("vkgrad.optimizer"); it != meta.end()) st.optimizer = it->second;
  if (metadata) {
    metadata->clear();
    for (const auto& [k, v] : meta)
      if (k.rfind("vkgrad.", 0) != 0 && k != "format") (*metadata)[k] = v;
  }
  return st;
}

void export_state_dict(const std::filesystem::path& path, const train::TrainingState& state) {
  std::vector<TensorToWrite> tensors;
  std::vector<std::vector<int64_t>> counts;  // int64 copies of the integer buffers
  counts.reserve(state.tensors.size());
  for (const auto& [name, t] : state.tensors) {
    if (name.rfind("optim.", 0) == 0) continue;
    if (!t.integer) {
      tensors.push_back({name, Dtype::F32, t.shape, bytes_of(t.values)});
      continue;
    }
    counts.emplace_back(t.values.begin(), t.values.end());
    tensors.push_back({name, Dtype::I64, t.shape, std::as_bytes(std::span(counts.back()))});
  }
  save_safetensors(path, tensors, {{"format", "pt"}});
}

train::TrainingState load_parameters(const std::filesystem::path& path) {
  const auto file = SafetensorsFile::load(path);
  train::TrainingState st;
  for (const auto& name : file.names()) {
    if (name.rfind("optim.", 0) == 0 || name.rfind("scaler.", 0) == 0) continue;
    const auto& t = file.tensor(name);
    switch (t.dtype) {
      case Dtype::F64:
      case Dtype::F32:
      case Dtype::F16:
      case Dtype::BF16:
        st.tensors[name] = {t.shape, file.to_f32(name)};
        break;
      case Dtype::I64:
      case Dtype::I32: {
        const auto counts = file.to_i64(name);
        st.tensors[name] = {t.shape, std::vector<float>(counts.begin(), counts.end()), true};
        break;
      }
      default:
        throw Error(path.string() + ": tensor '" + name + "' is " + std::string(dtype_name(t.dtype)) +
                        ", not a parameter or buffer type (F64, F32, F16, BF16, I64, I32)",
                    "save the state_dict with float parameters");
    }
  }
  return st;
}

}  // namespace vkgrad::io
