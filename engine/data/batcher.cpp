#include "vkgrad/data/batcher.hpp"

#include "vkgrad/error.hpp"

#include <string>

namespace vkgrad::data {

Batcher::Batcher(std::span<const uint8_t> images, std::span<const uint8_t> labels, uint32_t features,
                 const BatcherCreateInfo& info)
    : images_(images),
      labels_(labels),
      features_(features),
      info_(info),
      order_(uint32_t(labels.size()), {info.batch_size, info.seed, info.shuffle, info.drop_last, info.rank, info.ranks}) {
  if (features == 0 || images.size() != uint64_t(labels.size()) * features)
    throw Error("batcher: " + std::to_string(images.size()) + " image bytes do not hold " +
                    std::to_string(labels.size()) + " samples of " + std::to_string(features) + " features",
                "pass images and labels of the same dataset");
  if (!(info.std > 0.0f)) throw Error("batcher: std must be positive", "use the dataset's pixel standard deviation");
}

uint32_t Batcher::next(std::vector<float>& x, std::vector<int32_t>& y) {
  const auto batch = order_.next();
  const auto rows = uint32_t(batch.size());
  x.resize(size_t(rows) * features_);
  y.resize(rows);
  const float scale = 1.0f / (255.0f * info_.std), shift = info_.mean / info_.std;
  for (uint32_t r = 0; r < rows; ++r) {
    const uint8_t* px = images_.data() + size_t(batch[r]) * features_;
    for (uint32_t f = 0; f < features_; ++f) x[size_t(r) * features_ + f] = float(px[f]) * scale - shift;
    y[r] = labels_[batch[r]];
  }
  return rows;
}

}  // namespace vkgrad::data
