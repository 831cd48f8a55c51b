// vkgrad::data::Batcher — seeded shuffling and batching of an in-memory image dataset (uint8
// pixels, class labels), with normalization to floats, in the order a resumed run can
// reproduce exactly (data::Shuffler); data::FeatureBatcher does the same for float features.
//
// Owns a copy of nothing: it borrows the images and labels (which must outlive it) and keeps
// the current epoch's permutation. Not thread-safe: one thread at a time.
#pragma once

#include "vkgrad/data/shuffler.hpp"

#include <cstdint>
#include <span>
#include <vector>

namespace vkgrad::data {

struct BatcherCreateInfo {
  uint32_t batch_size = 128;
  uint64_t seed = 0;
  bool shuffle = true;
  bool drop_last = false;  // keep a final partial batch (the trainer masks it) unless set
  float mean = 0.0f;       // x = (pixel / 255 - mean) / std
  float std = 1.0f;
  uint32_t rank = 0, ranks = 1;  // data parallel: this rank's share of each batch (see ShufflerCreateInfo)
};

class Batcher {
public:
  // `images`: count × features bytes; `labels`: count class indices.
  Batcher(std::span<const uint8_t> images, std::span<const uint8_t> labels, uint32_t features,
          const BatcherCreateInfo& info);

  // Fills x (rows × features floats) and y (rows labels) with the next batch and returns its
  // row count; 0 at the end of the epoch (then call next_epoch()).
  uint32_t next(std::vector<float>& x, std::vector<int32_t>& y);
  void next_epoch() { order_.next_epoch(); }
  uint32_t batches_per_epoch() const { return order_.batches_per_epoch(); }
  uint32_t count() const { return order_.count(); }
  const BatcherPosition& position() const { return order_.position(); }
  // Jumps to a saved position: the epoch's permutation is rebuilt from the seed.
  void seek(const BatcherPosition& position) { order_.seek(position); }
  Shuffler& order() { return order_; }

private:
  std::span<const uint8_t> images_, labels_;
  uint32_t features_ = 0;
  BatcherCreateInfo info_;
  Shuffler order_;
};

}  // namespace vkgrad::data
