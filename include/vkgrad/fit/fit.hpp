// vkgrad::fit — the training loop most programs write by hand: epochs over shuffled batches, a
// progress bar, evaluation after each epoch with a metric, early stopping on it, the best
// checkpoint kept, a checkpoint to resume from with the data position, and a JSON-lines log.
//
//   fit::DatasetBatches train(train_set, {.batch_size = 128, .seed = 1});
//   fit::DatasetBatches val(val_set, {.batch_size = 128, .shuffle = false});
//   auto result = fit::fit(trainer, train, &val, {.epochs = 20, .patience = 3,
//                                                 .best_checkpoint = "best.safetensors"});
//
// Free functions over the caller's Trainer and Batches; not thread-safe with respect to them.
#pragma once

#include "vkgrad/error.hpp"
#include "vkgrad/fit/batches.hpp"
#include "vkgrad/io/checkpoint.hpp"
#include "vkgrad/train/trainer.hpp"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace vkgrad::fit {

// What early stopping and the best checkpoint watch: the validation loss (lower is better) or
// the accuracy (higher is better; classification with one label per sample).
enum class Metric { Loss, Accuracy };

struct Evaluation {
  double loss = 0;                 // mean over the samples
  std::optional<double> accuracy;  // where the batches have one class label per sample
  uint64_t samples = 0;
};

// One epoch of `batches` in evaluation mode (from the start of its current order; the order
// is left at the next epoch). Waits for the device.
Evaluation evaluate(train::Trainer& trainer, Batches& batches);

struct EpochReport {
  uint32_t epoch = 0;       // 1-based
  double train_loss = 0;    // mean of the epoch's applied steps
  std::optional<Evaluation> validation;
  double seconds = 0;       // training only, evaluation excluded
  double samples_per_second = 0;
  float loss_scale = 0;
  uint64_t skipped_steps = 0;  // all so far
  bool improved = false;       // the watched metric improved (the best checkpoint was written)
};

struct FitOptions {
  uint32_t epochs = 10;  // the epoch to stop after (a resumed run continues to it)
  Metric metric = Metric::Loss;
  // Stop once this many epochs in a row did not improve the metric by more than min_delta;
  // 0: never stop early. Needs validation batches.
  uint32_t patience = 0;
  double min_delta = 0.0;
  std::filesystem::path best_checkpoint;  // written whenever the metric improves; empty: none
  std::filesystem::path checkpoint;       // written after every epoch, with the data position
  std::filesystem::path log;              // one JSON object per epoch appended (JSON lines); empty: none
  std::string validation_name = "val";    // log keys "<name>_loss", "<name>_accuracy"
  io::Metadata checkpoint_metadata;       // the caller's keys, added to every checkpoint
  bool progress = true;                   // a progress bar on stderr, one line per epoch
  // A run whose steps are all skipped (non-finite gradients at every loss scale) has diverged:
  // after this many in a row fit() throws Diverged. 0: never.
  uint32_t max_consecutive_skipped = 50;
  std::function<void(const EpochReport&)> on_epoch;  // after each epoch, its checkpoint written
};

struct FitResult {
  std::vector<EpochReport> epochs;  // this call's
  uint32_t best_epoch = 0;          // 0: no validation
  double best_metric = 0;
  bool stopped_early = false;
  uint64_t samples = 0;             // trained on, this call (data parallel: by every rank)
  double train_seconds = 0;
};

// Thrown by fit() when max_consecutive_skipped steps in a row were skipped.
class Diverged : public Error {
public:
  Diverged(uint64_t consecutive, float loss_scale, uint64_t nonfinite_losses);
  uint64_t consecutive = 0;
  float loss_scale = 0;
  uint64_t nonfinite_losses = 0;  // the forward pass overflowed where > 0
};

// Trains `trainer` on `train` until options.epochs (from the epoch its order stands at), with
// `validation` (may be null) evaluated after each epoch.
FitResult fit(train::Trainer& trainer, Batches& train, Batches* validation, const FitOptions& options = {});

// Loads a checkpoint fit() wrote into the trainer and puts `train`'s order where it stood;
// returns its metadata (the caller's keys), so the caller can check what it saved there.
io::Metadata resume(train::Trainer& trainer, Batches& train, const std::filesystem::path& checkpoint);

}  // namespace vkgrad::fit
