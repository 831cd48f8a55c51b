#include "vkgrad/data/shuffler.hpp"

#include "vkgrad/error.hpp"

#include <algorithm>
#include <numeric>
#include <random>
#include <string>

namespace vkgrad::data {

Shuffler::Shuffler(uint32_t count, const ShufflerCreateInfo& info) : count_(count), info_(info) {
  if (info.batch_size == 0) throw Error("batcher: batch_size is 0", "use at least 1");
  seek({});
}

uint32_t Shuffler::batches_per_epoch() const {
  return info_.drop_last ? count_ / info_.batch_size : (count_ + info_.batch_size - 1) / info_.batch_size;
}

std::span<const uint32_t> Shuffler::next() {
  const uint64_t left = count_ - position_.next;
  const uint32_t rows = uint32_t(std::min<uint64_t>(left, info_.batch_size));
  if (rows == 0 || (info_.drop_last && rows < info_.batch_size)) return {};
  const std::span<const uint32_t> batch(order_.data() + position_.next, rows);
  position_.next += rows;
  return batch;
}

void Shuffler::next_epoch() { seek({position_.epoch + 1, 0}); }

// Fisher–Yates with the engine's own index draws: std::shuffle's algorithm differs between
// standard libraries, and a resumed run must see the same order on every platform.
void Shuffler::seek(const BatcherPosition& p) {
  if (p.next > count_)
    throw Error("batcher: position " + std::to_string(p.next) + " is past the " + std::to_string(count_) + " samples",
                "resume with the dataset the checkpoint was trained on");
  order_.resize(count_);
  std::iota(order_.begin(), order_.end(), 0u);
  if (info_.shuffle) {
    std::mt19937_64 rng(info_.seed * 0x9E3779B97F4A7C15ull + p.epoch);
    for (uint32_t i = count_; i > 1; --i) {
      const uint32_t j = uint32_t(rng() % i);
      std::swap(order_[i - 1], order_[j]);
    }
  }
  position_ = p;
}

}  // namespace vkgrad::data
