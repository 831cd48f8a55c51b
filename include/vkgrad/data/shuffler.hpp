// vkgrad::data::Shuffler — the order in which each epoch visits a dataset's samples, in batches:
// a seeded permutation per epoch, the same on every platform, and the position a resumed run
// continues from. The batchers build on it; it serves any other data layout as well.
// Plain state; not thread-safe: one thread at a time.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace vkgrad::data {

struct ShufflerCreateInfo {
  uint32_t batch_size = 128;
  uint64_t seed = 0;
  bool shuffle = true;
  bool drop_last = false;  // keep a final partial batch (the trainer masks it) unless set
  // Data parallel: batch_size is the global batch, and next() gives this rank's share of it:
  // rows [rank·n/ranks, (rank+1)·n/ranks) of a batch of n, so that the ranks' shares together
  // are the one-process batch in its order. A final batch of fewer rows than ranks is left out
  // (every rank must take part in every step).
  uint32_t rank = 0, ranks = 1;
};

// Where a run stands: the epoch and the next sample within it. Saved in checkpoints.
struct BatcherPosition {
  uint64_t epoch = 0;
  uint64_t next = 0;
};

class Shuffler {
public:
  Shuffler(uint32_t count, const ShufflerCreateInfo& info);
  // The sample indices of the next batch; empty at the end of the epoch (then next_epoch()).
  std::span<const uint32_t> next();
  void next_epoch();
  uint32_t batches_per_epoch() const;
  uint32_t count() const { return count_; }
  uint32_t batch_size() const { return info_.batch_size; }
  const BatcherPosition& position() const { return position_; }
  // Jumps to a saved position: the epoch's permutation is rebuilt from the seed.
  void seek(const BatcherPosition& position);

private:
  uint32_t count_ = 0;
  ShufflerCreateInfo info_;
  std::vector<uint32_t> order_;
  BatcherPosition position_;
};

}  // namespace vkgrad::data
