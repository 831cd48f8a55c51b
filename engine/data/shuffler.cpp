#include "vkgrad/data/shuffler.hpp"

#include "vkgrad/error.hpp"

#include <algorithm>
#include <numeric>
#include <random>
#include <string>

namespace vkgrad::data {

Shuffler::Shuffler(uint32_t count, const ShufflerCreateInfo& info) : count_(count), info_(info) {
  if (info.batch_size == 0) throw Error("batcher: batch_size is 0", "use at least 1");
  if (info.ranks == 0 || info.rank >= info.ranks)
    throw Error("batcher: rank " + std::to_string(info.rank) + " of " + std::to_string(info.ranks) + " ranks",
                "give a rank below the number of ranks (MPI's rank and size)");
  if (info.batch_size < info.ranks)
    throw Error("batcher: a global batch of " + std::to_string(info.batch_size) + " rows cannot be shared by " +
                    std::to_string(info.ranks) + " ranks",
                "use a batch of at least one row per rank");
  seek({});
}

uint32_t Shuffler::batches_per_epoch() const {
  const uint32_t last = count_ % info_.batch_size;
  return count_ / info_.batch_size + (info_.drop_last || last < info_.ranks ? 0 : 1);
}

std::span<const uint32_t> Shuffler::next() {
  const uint64_t left = count_ - position_.next;
  const uint32_t rows = uint32_t(std::min<uint64_t>(left, info_.batch_size));
  if (rows < info_.ranks || (info_.drop_last && rows < info_.batch_size)) return {};
  const std::span<const uint32_t> batch(order_.data() + position_.next, rows);
  position_.next += rows;
  const uint64_t first = uint64_t(info_.rank) * rows / info_.ranks, end = uint64_t(info_.rank + 1) * rows / info_.ranks;
  return batch.subspan(first, end - first);
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
