// vkgrad::data::FeatureBatcher — seeded shuffling and batching of an in-memory dataset of float
// features with float targets (regression) or int32 labels (classification), in the order a
// resumed run can reproduce exactly (data::Shuffler); and split_indices() for a train /
// validation split. Borrows the data (which must outlive it); not thread-safe: one thread at
// a time.
#pragma once

#include "vkgrad/data/shuffler.hpp"

#include <cstdint>
#include <span>
#include <vector>

namespace vkgrad::data {

class FeatureBatcher {
public:
  // x: count × features floats; targets: count × target_features floats.
  FeatureBatcher(std::span<const float> x, uint32_t features, std::span<const float> targets,
                 uint32_t target_features, const ShufflerCreateInfo& info);
  // x: count × features floats; labels: count × labels_per_sample int32 (class indices, token ids).
  FeatureBatcher(std::span<const float> x, uint32_t features, std::span<const int32_t> labels,
                 uint32_t labels_per_sample, const ShufflerCreateInfo& info);

  // Fills x and the targets (or labels) of the next batch and returns its row count; 0 at the
  // end of the epoch (then next_epoch()). The other target vector is left empty.
  uint32_t next(std::vector<float>& x, std::vector<float>& targets, std::vector<int32_t>& labels);
  Shuffler& order() { return order_; }  // epochs, positions, seek
  const Shuffler& order() const { return order_; }

private:
  FeatureBatcher(std::span<const float> x, uint32_t features, std::span<const float> targets,
                 std::span<const int32_t> labels, uint32_t per_sample, const ShufflerCreateInfo& info);

  std::span<const float> x_, targets_;
  std::span<const int32_t> labels_;
  uint32_t features_ = 0, per_sample_ = 0;
  Shuffler order_;
};

// A seeded split of `count` sample indices: the first `count − held_out` of a permutation
// (ascending) for training and the rest (ascending) for validation.
struct Split {
  std::vector<uint32_t> train, validation;
};
Split split_indices(uint32_t count, uint32_t held_out, uint64_t seed);

}  // namespace vkgrad::data
