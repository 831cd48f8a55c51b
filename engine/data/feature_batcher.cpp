#include "vkgrad/data/feature_batcher.hpp"

#include "vkgrad/error.hpp"

#include <algorithm>
#include <string>

namespace vkgrad::data {
namespace {

// The sample count the features hold, checked against the targets'.
uint32_t samples(std::span<const float> x, uint32_t features, uint64_t targets, uint32_t per_sample) {
  if (features == 0 || per_sample == 0 || x.size() % features != 0)
    throw Error("feature batcher: " + std::to_string(x.size()) + " feature values in rows of " +
                    std::to_string(features) + ", targets in rows of " + std::to_string(per_sample),
                "pass count × features values and at least one target per sample");
  const uint64_t count = x.size() / features;
  if (targets != count * per_sample || count > 0xFFFFFFFFull)
    throw Error("feature batcher: " + std::to_string(count) + " samples of features but " + std::to_string(targets) +
                    " target values (" + std::to_string(per_sample) + " per sample)",
                "pass the features and targets of the same samples");
  return uint32_t(count);
}

}  // namespace

FeatureBatcher::FeatureBatcher(std::span<const float> x, uint32_t features, std::span<const float> targets,
                               uint32_t target_features, const ShufflerCreateInfo& info)
    : FeatureBatcher(x, features, targets, {}, target_features, info) {}

FeatureBatcher::FeatureBatcher(std::span<const float> x, uint32_t features, std::span<const int32_t> labels,
                               uint32_t labels_per_sample, const ShufflerCreateInfo& info)
    : FeatureBatcher(x, features, {}, labels, labels_per_sample, info) {}

FeatureBatcher::FeatureBatcher(std::span<const float> x, uint32_t features, std::span<const float> targets,
                               std::span<const int32_t> labels, uint32_t per_sample, const ShufflerCreateInfo& info)
    : x_(x),
      targets_(targets),
      labels_(labels),
      features_(features),
      per_sample_(per_sample),
      order_(samples(x, features, targets.size() + labels.size(), per_sample), info) {}

uint32_t FeatureBatcher::next(std::vector<float>& x, std::vector<float>& targets, std::vector<int32_t>& labels) {
  const auto batch = order_.next();
  const auto rows = uint32_t(batch.size());
  x.resize(size_t(rows) * features_);
  targets.resize(labels_.empty() ? size_t(rows) * per_sample_ : 0);
  labels.resize(labels_.empty() ? 0 : size_t(rows) * per_sample_);
  for (uint32_t r = 0; r < rows; ++r) {
    const size_t s = batch[r];
    std::copy_n(x_.begin() + std::ptrdiff_t(s * features_), features_, x.begin() + std::ptrdiff_t(r * features_));
    if (labels_.empty())
      std::copy_n(targets_.begin() + std::ptrdiff_t(s * per_sample_), per_sample_,
                  targets.begin() + std::ptrdiff_t(size_t(r) * per_sample_));
    else
      std::copy_n(labels_.begin() + std::ptrdiff_t(s * per_sample_), per_sample_,
                  labels.begin() + std::ptrdiff_t(size_t(r) * per_sample_));
  }
  return rows;
}

Split split_indices(uint32_t count, uint32_t held_out, uint64_t seed) {
  if (held_out > count)
    throw Error("split: " + std::to_string(held_out) + " samples held out of " + std::to_string(count),
                "hold out at most the whole dataset");
  Shuffler order(count, {.batch_size = std::max(count, 1u), .seed = seed});
  const auto all = order.next();
  Split s;
  s.train.assign(all.begin(), all.end() - held_out);
  s.validation.assign(all.end() - held_out, all.end());
  std::sort(s.train.begin(), s.train.end());
  std::sort(s.validation.begin(), s.validation.end());
  return s;
}

}  // namespace vkgrad::data
