// vkgrad::data::Dataset — samples of float features with float targets (regression) or int32
// labels (classification), row-major in memory: built by hand, or loaded from a safetensors file
// or from two .npy files (the first dimension counts the samples; the others are flattened).
// An integer target array becomes labels, a floating-point one targets. A FeatureBatcher
// batches it; subset() with split_indices() makes a train / validation split.
// A plain value; thread-safe for const use.
#pragma once

#include "vkgrad/data/feature_batcher.hpp"

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

namespace vkgrad::data {

struct Dataset {
  std::vector<float> x;         // count × features
  uint32_t features = 0;
  std::vector<float> targets;   // count × target_width (regression), or empty
  std::vector<int32_t> labels;  // count × target_width (class indices, token ids), or empty
  uint32_t target_width = 1;

  uint32_t count() const;  // checks that the sizes agree (Error naming them otherwise)
  bool classification() const { return !labels.empty(); }
  // The samples at `indices`, in that order (Error for an index past count()).
  Dataset subset(std::span<const uint32_t> indices) const;
  // Shuffled batches of it; the Dataset must outlive the batcher.
  FeatureBatcher batches(const ShufflerCreateInfo& info) const;
};

// Tensors `x_name` and `y_name` of a safetensors file (any float or integer dtype; integer
// targets must fit int32).
Dataset load_safetensors_dataset(const std::filesystem::path& path, const std::string& x_name = "x",
                                 const std::string& y_name = "y");
// Features from one .npy file, targets from another (io::load_npy's dtypes).
Dataset load_npy_dataset(const std::filesystem::path& x_path, const std::filesystem::path& y_path);

}  // namespace vkgrad::data
