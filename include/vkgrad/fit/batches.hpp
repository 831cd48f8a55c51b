// vkgrad::fit::Batches — what fit() and evaluate() read: batches of a dataset one epoch after
// another, each as a train::Batch of the graph's feeds (features, then targets or labels), in
// an order that checkpoints can save and restore (data::Shuffler). DatasetBatches serves a
// data::Dataset (float features), ImageBatches uint8 images with class labels (data::Batcher).
// Each borrows its data, which must outlive it; not thread-safe: one thread at a time.
#pragma once

#include "vkgrad/data/batcher.hpp"
#include "vkgrad/data/dataset.hpp"
#include "vkgrad/train/trainer.hpp"

#include <cstdint>
#include <span>
#include <vector>

namespace vkgrad::fit {

class Batches {
public:
  virtual ~Batches() = default;
  // The next batch of this epoch; 0 rows at its end (then order().next_epoch()). The batch's
  // spans point into this object until the next call.
  virtual train::Batch next() = 0;
  virtual data::Shuffler& order() = 0;
  // Classification with one label per sample: accuracy can be measured.
  virtual bool one_label_per_sample() const = 0;
};

class DatasetBatches final : public Batches {
public:
  DatasetBatches(const data::Dataset& dataset, const data::ShufflerCreateInfo& info);
  train::Batch next() override;
  data::Shuffler& order() override { return batcher_.order(); }
  bool one_label_per_sample() const override { return classification_ && width_ == 1; }

private:
  data::FeatureBatcher batcher_;
  bool classification_ = false;
  uint32_t width_ = 1;
  std::vector<float> x_, targets_;
  std::vector<int32_t> labels_;
};

class ImageBatches final : public Batches {
public:
  // `images`: count × features bytes; `labels`: count class indices.
  ImageBatches(std::span<const uint8_t> images, std::span<const uint8_t> labels, uint32_t features,
               const data::BatcherCreateInfo& info);
  train::Batch next() override;
  data::Shuffler& order() override { return batcher_.order(); }
  bool one_label_per_sample() const override { return true; }

private:
  data::Batcher batcher_;
  std::vector<float> x_;
  std::vector<int32_t> labels_;
};

}  // namespace vkgrad::fit
