#include "vkgrad/data/batcher.hpp"

#include "vkgrad/error.hpp"

#include <numeric>
#include <random>

namespace vkgrad::data {

Batcher::Batcher(std::span<const uint8_t> images, std::span<const uint8_t> labels, uint32_t features,
                 const BatcherCreateInfo& info)
    : images_(images), labels_(labels), features_(features), count_(uint32_t(labels.size())), info_(info) {
  if (features == 0 || images.size() != uint64_t(count_) * features)
    throw Error("batcher: " + std::to_string(images.size()) + " image bytes do not hold " + std::to_string(count_) +
                    " samples of " + std::to_string(features) + " features",
                "pass images and labels of the same dataset");
  if (info.batch_size == 0) throw Error("batcher: batch_size is 0", "use at least 1");
  if (!(info.std > 0.0f)) throw Error("batcher: std must be positive", "use the dataset's pixel standard deviation");
  seek({});
}

// Fisher–Yates with the engine's own index draws: std::shuffle's algorithm differs between
// standard libraries, and a resumed run must see the same order on every platform.
void Batcher::shuffle_epoch() {
  order_.resize(count_);
  std::iota(order_.begin(), order_.end(), 0u);
  if (!info_.shuffle) return;
  std::mt19937_64 rng(info_.seed * 0x9E3779B97F4A7C15ull + position_.epoch);
  for (uint32_t i = count_; i > 1; --i) {
    const uint32_t j = uint32_t(rng() % i);
    std::swap(order_[i - 1], order_[j]);
  }
}

uint32_t Batcher::batches_per_epoch() const {
  return info_.drop_last ? count_ / info_.batch_size : (count_ + info_.batch_size - 1) / info_.batch_size;
}

uint32_t Batcher::next(std::vector<float>& x, std::vector<int32_t>& y) {
  const uint64_t left = count_ - position_.next;
  uint32_t rows = uint32_t(std::min<uint64_t>(left, info_.batch_size));
  if (rows == 0 || (info_.drop_last && rows < info_.batch_size)) return 0;
  x.resize(size_t(rows) * features_);
  y.resize(rows);
  const float scale = 1.0f / (255.0f * info_.std), shift = info_.mean / info_.std;
  for (uint32_t r = 0; r < rows; ++r) {
    const uint32_t s = order_[position_.next + r];
    const uint8_t* px = images_.data() + size_t(s) * features_;
    for (uint32_t f = 0; f < features_; ++f) x[size_t(r) * features_ + f] = float(px[f]) * scale - shift;
    y[r] = labels_[s];
  }
  position_.next += rows;
  return rows;
}

void Batcher::next_epoch() { seek({position_.epoch + 1, 0}); }

void Batcher::seek(const BatcherPosition& p) {
  if (p.next > count_)
    throw Error("batcher: position " + std::to_string(p.next) + " is past the " + std::to_string(count_) + " samples",
                "resume with the dataset the checkpoint was trained on");
  position_ = {p.epoch, 0};
  shuffle_epoch();
  position_.next = p.next;
}

}  // namespace vkgrad::data
