// The data helpers on the host: the epoch order (a permutation per epoch, reproducible from
// the seed and resumable mid-epoch), the image and float-feature batchers built on it, and the
// train / validation split.
#include "vkgrad/data/batcher.hpp"
#include "vkgrad/data/feature_batcher.hpp"
#include "vkgrad/error.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <vector>

namespace vkgrad::test {
namespace {

std::vector<uint32_t> epoch_of(data::Shuffler& s) {
  std::vector<uint32_t> seen;
  for (auto b = s.next(); !b.empty(); b = s.next()) seen.insert(seen.end(), b.begin(), b.end());
  return seen;
}

TEST(Shuffler, EachEpochIsAPermutationReproducibleAndResumable) {
  data::Shuffler s(10, {.batch_size = 3, .seed = 7});
  EXPECT_EQ(s.batches_per_epoch(), 4u);
  const auto first = epoch_of(s);
  auto sorted = first;
  std::sort(sorted.begin(), sorted.end());
  std::vector<uint32_t> all(10);
  std::iota(all.begin(), all.end(), 0u);
  EXPECT_EQ(sorted, all);
  EXPECT_NE(first, all) << "shuffled";
  s.next_epoch();
  const auto second = epoch_of(s);
  EXPECT_NE(second, first) << "a new permutation each epoch";

  data::Shuffler again(10, {.batch_size = 3, .seed = 7});
  EXPECT_EQ(epoch_of(again), first) << "the same seed, the same order";
  again.seek({1, 6});
  EXPECT_EQ(epoch_of(again), std::vector<uint32_t>(second.begin() + 6, second.end())) << "resumed mid-epoch";
  EXPECT_THROW(again.seek({0, 11}), Error);

  data::Shuffler dropping(10, {.batch_size = 3, .shuffle = false, .drop_last = true});
  EXPECT_EQ(dropping.batches_per_epoch(), 3u);
  EXPECT_EQ(epoch_of(dropping), std::vector<uint32_t>(all.begin(), all.begin() + 9));
  EXPECT_THROW(data::Shuffler(4, {.batch_size = 0}), Error);
}

TEST(Shuffler, RanksShareEachBatchInTheOneProcessOrder) {
  // 50 samples in batches of 8 over 3 ranks: shares of 2 or 3 rows; the last batch (2 rows,
  // fewer than the ranks) is left out on every rank.
  constexpr uint32_t kRanks = 3;
  data::Shuffler whole(50, {.batch_size = 8, .seed = 5});
  std::vector<data::Shuffler> ranks;
  for (uint32_t r = 0; r < kRanks; ++r) ranks.emplace_back(50, data::ShufflerCreateInfo{.batch_size = 8, .seed = 5, .rank = r, .ranks = kRanks});
  for (const auto& r : ranks) EXPECT_EQ(r.batches_per_epoch(), 6u);
  for (int epoch = 0; epoch < 2; ++epoch) {
    uint32_t batches = 0;
    for (auto b = whole.next(); !b.empty(); b = whole.next()) {
      std::vector<uint32_t> joined;
      for (auto& r : ranks) {
        const auto share = r.next();
        if (b.size() >= kRanks) {
          EXPECT_GE(share.size(), 2u) << "8 rows over 3 ranks: 2, 3 and 3";
        }
        joined.insert(joined.end(), share.begin(), share.end());
      }
      if (b.size() < kRanks) {
        EXPECT_TRUE(joined.empty()) << "a batch too small to share ends the epoch on every rank";
        continue;
      }
      ++batches;
      EXPECT_EQ(joined, std::vector<uint32_t>(b.begin(), b.end())) << "epoch " << epoch << " batch " << batches;
    }
    for (auto& r : ranks) EXPECT_TRUE(r.next().empty());
    EXPECT_EQ(batches, 6u);
    whole.next_epoch();
    for (auto& r : ranks) r.next_epoch();
  }
  EXPECT_THROW(data::Shuffler(50, {.batch_size = 8, .rank = 3, .ranks = 3}), Error);
  EXPECT_THROW(data::Shuffler(50, {.batch_size = 2, .rank = 0, .ranks = 3}), Error);
}

TEST(Batcher, NormalizesImagesInTheShufflersOrder) {
  const std::vector<uint8_t> images = {0, 255, 10, 20, 30, 40, 50, 60, 70, 80};  // 5 samples × 2
  const std::vector<uint8_t> labels = {0, 1, 2, 3, 4};
  const data::BatcherCreateInfo info{.batch_size = 2, .seed = 3, .mean = 0.5f, .std = 0.25f};
  data::Batcher b(images, labels, 2, info);
  data::Shuffler order(5, {.batch_size = 2, .seed = 3});
  std::vector<float> x;
  std::vector<int32_t> y;
  for (auto idx = order.next(); !idx.empty(); idx = order.next()) {
    ASSERT_EQ(b.next(x, y), idx.size());
    for (size_t r = 0; r < idx.size(); ++r) {
      EXPECT_EQ(y[r], int32_t(idx[r]));
      for (size_t f = 0; f < 2; ++f)
        EXPECT_NEAR(x[r * 2 + f], (images[idx[r] * 2 + f] / 255.0 - 0.5) / 0.25, 1e-6);
    }
  }
  EXPECT_EQ(b.next(x, y), 0u);
  EXPECT_THROW(data::Batcher(images, labels, 3, info), Error);
}

TEST(FeatureBatcher, BatchesFeaturesWithTargetsOrLabels) {
  const uint32_t count = 7;
  std::vector<float> x(count * 3), t(count * 2);
  std::vector<int32_t> ids(count * 2);
  for (uint32_t i = 0; i < count; ++i) {
    for (uint32_t f = 0; f < 3; ++f) x[i * 3 + f] = float(10 * i + f);
    for (uint32_t k = 0; k < 2; ++k) t[i * 2 + k] = -float(10 * i + k), ids[i * 2 + k] = int32_t(100 * i + k);
  }
  const data::ShufflerCreateInfo info{.batch_size = 3, .seed = 5};
  data::FeatureBatcher regression(x, 3, std::span<const float>(t), 2, info);
  data::FeatureBatcher classes(x, 3, std::span<const int32_t>(ids), 2, info);
  data::Shuffler order(count, info);
  std::vector<float> bx, bt, cx, ct;
  std::vector<int32_t> bl, cl;
  uint32_t seen = 0;
  for (auto idx = order.next(); !idx.empty(); idx = order.next()) {
    ASSERT_EQ(regression.next(bx, bt, bl), idx.size());
    ASSERT_EQ(classes.next(cx, ct, cl), idx.size());
    EXPECT_TRUE(bl.empty() && ct.empty());
    EXPECT_EQ(bx, cx);
    for (size_t r = 0; r < idx.size(); ++r) {
      EXPECT_EQ(bx[r * 3 + 2], float(10 * idx[r] + 2));
      EXPECT_EQ(bt[r * 2 + 1], -float(10 * idx[r] + 1));
      EXPECT_EQ(cl[r * 2 + 1], int32_t(100 * idx[r] + 1));
    }
    seen += uint32_t(idx.size());
  }
  EXPECT_EQ(seen, count);
  EXPECT_EQ(regression.next(bx, bt, bl), 0u);
  try {
    data::FeatureBatcher bad(x, 3, std::span<const float>(t).first(5), 2, info);
    FAIL() << "expected vkgrad::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("7 samples"), std::string::npos) << e.what();
  }
}

TEST(Split, HoldsOutADisjointSeededPart) {
  const auto s = data::split_indices(20, 5, 9);
  ASSERT_EQ(s.train.size(), 15u);
  ASSERT_EQ(s.validation.size(), 5u);
  EXPECT_TRUE(std::is_sorted(s.train.begin(), s.train.end()));
  std::vector<uint32_t> both = s.train;
  both.insert(both.end(), s.validation.begin(), s.validation.end());
  std::sort(both.begin(), both.end());
  std::vector<uint32_t> all(20);
  std::iota(all.begin(), all.end(), 0u);
  EXPECT_EQ(both, all);
  EXPECT_EQ(data::split_indices(20, 5, 9).validation, s.validation);
  EXPECT_NE(data::split_indices(20, 5, 10).validation, s.validation);
  EXPECT_THROW((void)data::split_indices(3, 4, 0), Error);
}

}  // namespace
}  // namespace vkgrad::test
