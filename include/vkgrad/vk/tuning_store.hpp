// vkgrad::vk::TuningStore — kernel choices measured on one device and driver, kept on disk.
//
// A map from a kernel's shape-class key to the choice measured fastest (and correct), saved
// as JSON beside the pipeline cache, one file per pipelineCacheUUID and driverVersion, so a
// new driver measures afresh. Kernels consult it only when `enabled()`; the rule-based choice
// serves otherwise. Owned by a Context; one thread at a time, like its Context.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>

namespace vkgrad::vk {

class TuningStore {
public:
  // `file` empty: choices are kept for this Context's life only.
  TuningStore(std::filesystem::path file, bool enabled);

  bool enabled() const { return enabled_; }
  const std::filesystem::path& file() const { return file_; }
  std::optional<std::string> find(const std::string& key) const;
  // Records a choice and saves the file (a failed save costs a new measurement next time).
  void record(const std::string& key, const std::string& value);
  const std::map<std::string, std::string>& entries() const { return entries_; }

private:
  std::filesystem::path file_;
  bool enabled_;
  std::map<std::string, std::string> entries_;
};

}  // namespace vkgrad::vk
