#include "vkgrad/fit/batches.hpp"

namespace vkgrad::fit {

DatasetBatches::DatasetBatches(const data::Dataset& dataset, const data::ShufflerCreateInfo& info)
    : batcher_(dataset.batches(info)), classification_(dataset.classification()), width_(dataset.target_width) {}

train::Batch DatasetBatches::next() {
  const uint32_t rows = batcher_.next(x_, targets_, labels_);
  if (rows == 0) return {};
  return classification_ ? train::Batch{rows, {{x_, {}}, {{}, labels_}}} : train::Batch{rows, {{x_, {}}, {targets_, {}}}};
}

ImageBatches::ImageBatches(std::span<const uint8_t> images, std::span<const uint8_t> labels, uint32_t features,
                           const data::BatcherCreateInfo& info)
    : batcher_(images, labels, features, info) {}

train::Batch ImageBatches::next() {
  const uint32_t rows = batcher_.next(x_, labels_);
  if (rows == 0) return {};
  return {rows, {{x_, {}}, {{}, labels_}}};
}

}  // namespace vkgrad::fit
