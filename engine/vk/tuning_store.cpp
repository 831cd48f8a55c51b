#include "vkgrad/vk/tuning_store.hpp"

#include "file_replace.hpp"
#include "vkgrad/error.hpp"

#include <nlohmann/json.hpp>

#include <fstream>

namespace vkgrad::vk {

TuningStore::TuningStore(std::filesystem::path file, bool enabled) : file_(std::move(file)), enabled_(enabled) {
  if (file_.empty()) return;
  std::ifstream in(file_);
  if (!in) return;
  // A damaged file is measured anew rather than trusted.
  const auto doc = nlohmann::json::parse(in, nullptr, false);
  if (!doc.is_object()) return;
  for (const auto& [key, value] : doc.items())
    if (value.is_string()) entries_[key] = value.get<std::string>();
}

std::optional<std::string> TuningStore::find(const std::string& key) const {
  const auto it = entries_.find(key);
  if (it == entries_.end()) return std::nullopt;
  return it->second;
}

void TuningStore::record(const std::string& key, const std::string& value) {
  entries_[key] = value;
  if (file_.empty()) return;
  const std::string text = nlohmann::json(entries_).dump(1) + "\n";
  try {
    replace_file(file_, text, "kernel tuning file");
  } catch (const Error&) {
    // Not fatal: the choice holds for this Context, and a later run measures again.
  }
}

}  // namespace vkgrad::vk
