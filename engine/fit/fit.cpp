#include "vkgrad/fit/fit.hpp"

#include "fit/progress.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>

namespace vkgrad::fit {
namespace {

constexpr const char* kEpochKey = "data.epoch";
constexpr const char* kNextKey = "data.next";

std::string number(double v, const char* format = "%.4f") {
  char buf[32];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

// Better means lower loss or higher accuracy, by more than min_delta.
bool improves(Metric metric, double value, std::optional<double> best, double min_delta) {
  if (!best) return true;
  return metric == Metric::Loss ? value < *best - min_delta : value > *best + min_delta;
}

void check(const FitOptions& o, const Batches& train, const Batches* validation) {
  if (o.epochs == 0) throw Error("FitOptions::epochs is 0", "train for at least one epoch");
  if (o.patience > 0 && !validation)
    throw Error("FitOptions::patience needs validation batches to watch", "pass validation batches, or patience 0");
  if (o.metric == Metric::Accuracy && validation && !validation->one_label_per_sample())
    throw Error("FitOptions::metric is Accuracy, but the validation batches have no single class label per sample",
                "watch Metric::Loss for regression and sequence targets");
  (void)train;
}

}  // namespace

Diverged::Diverged(uint64_t n, float scale, uint64_t nonfinite)
    : Error("training stopped: " + std::to_string(n) + " consecutive steps skipped (loss scale now " +
                number(double(scale), "%g") + ", " + std::to_string(nonfinite) + " non-finite losses)",
            nonfinite > 0 ? "the forward pass overflows (non-finite loss): lower the learning rate, or train in FP32"
                          : "gradients overflow FP16 even at small loss scales: the loss is probably diverging; "
                            "lower the learning rate"),
      consecutive(n),
      loss_scale(scale),
      nonfinite_losses(nonfinite) {}

Evaluation evaluate(train::Trainer& trainer, Batches& batches) {
  Evaluation e;
  const bool accuracy = batches.one_label_per_sample();
  uint64_t correct = 0;
  double loss = 0;
  for (train::Batch b = batches.next(); b.rows > 0; b = batches.next()) {
    const auto r = trainer.evaluate(b);
    loss += double(r.loss) * b.rows;
    e.samples += b.rows;
    if (!accuracy) continue;
    const size_t classes = r.predictions.size() / b.rows;
    const auto labels = b.feeds.at(1).labels;
    for (uint32_t row = 0; row < b.rows; ++row) {
      const float* p = &r.predictions[row * classes];
      correct += int64_t(std::max_element(p, p + classes) - p) == labels[row];
    }
  }
  batches.order().next_epoch();
  if (e.samples == 0) throw Error("fit::evaluate: the batches hold no samples", "evaluate on a non-empty dataset");
  e.loss = loss / double(e.samples);
  if (accuracy) e.accuracy = double(correct) / double(e.samples);
  return e;
}

FitResult fit(train::Trainer& trainer, Batches& train, Batches* validation, const FitOptions& o) {
  check(o, train, validation);
  std::ofstream log;
  if (!o.log.empty()) {
    log.open(o.log, std::ios::app);
    if (!log) throw Error("cannot open the log " + o.log.string() + " for appending", "check the folder exists and is writable");
  }
  FitResult result;
  std::optional<double> best;
  uint32_t since_best = 0;
  uint64_t consecutive = 0;
  train::Metrics last;
  for (auto epoch = uint32_t(train.order().position().epoch); epoch < o.epochs; ++epoch) {
    Progress bar(epoch + 1, o.epochs, train.order().count(), o.progress);
    const auto t0 = std::chrono::steady_clock::now();
    uint64_t done = train.order().position().next, trained = 0, applied = 0;
    double loss_sum = 0;
    const auto absorb = [&](const train::Metrics& m) {
      consecutive = m.skipped ? consecutive + 1 : 0;
      if (!m.skipped) loss_sum += m.loss, ++applied;
      last = m;
    };
    // Steps complete a few at a time: each is counted on its own, so the run stops at exactly
    // the step that makes max_consecutive_skipped.
    const auto absorb_completed = [&] {
      for (const auto& m : trainer.take_history()) {
        absorb(m);
        if (o.max_consecutive_skipped > 0 && consecutive >= o.max_consecutive_skipped) {
          bar.abandon();
          throw Diverged(consecutive, last.loss_scale, last.nonfinite_losses);
        }
      }
    };
    for (train::Batch b = train.next(); b.rows > 0; b = train.next()) {
      trainer.step(b);
      // The order's position counts the whole batch: under data parallelism, every rank's share.
      trained += train.order().position().next - done;
      done = train.order().position().next;
      absorb_completed();
      bar.update(done, last);
    }
    const train::Metrics m = trainer.metrics(train::Wait::Yes);
    absorb_completed();
    EpochReport r;
    r.epoch = epoch + 1;
    r.train_loss = applied ? loss_sum / double(applied) : double(m.loss);
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    r.samples_per_second = r.seconds > 0 ? double(trained) / r.seconds : 0;
    r.loss_scale = m.loss_scale;
    r.skipped_steps = m.skipped_steps;
    train.order().next_epoch();
    result.samples += trained;
    result.train_seconds += r.seconds;

    std::string summary = "train loss " + number(r.train_loss);
    if (validation) {
      r.validation = evaluate(trainer, *validation);
      const double value = o.metric == Metric::Loss ? r.validation->loss : r.validation->accuracy.value_or(0.0);
      r.improved = improves(o.metric, value, best, o.min_delta);
      if (r.improved) {
        best = value;
        since_best = 0;
        result.best_epoch = r.epoch;
        result.best_metric = value;
      } else {
        ++since_best;
      }
      summary += ", " + o.validation_name + " loss " + number(r.validation->loss);
      if (r.validation->accuracy) summary += " accuracy " + number(*r.validation->accuracy);
      if (r.improved && !o.best_checkpoint.empty()) summary += " (best)";
    }
    bar.finish(m, summary);

    if (!o.checkpoint.empty() || (r.improved && !o.best_checkpoint.empty())) {
      io::Metadata meta = o.checkpoint_metadata;
      meta[kEpochKey] = std::to_string(train.order().position().epoch);
      meta[kNextKey] = std::to_string(train.order().position().next);
      const auto state = trainer.save_state();
      if (!o.checkpoint.empty()) io::save_checkpoint(o.checkpoint, state, meta);
      if (r.improved && !o.best_checkpoint.empty()) io::save_checkpoint(o.best_checkpoint, state, meta);
    }
    if (log.is_open()) {
      nlohmann::json line = {{"epoch", r.epoch},
                             {"train_loss", r.train_loss},
                             {"loss_scale", r.loss_scale},
                             {"skipped_steps", r.skipped_steps},
                             {"samples_per_s", r.samples_per_second},
                             {"seconds", r.seconds}};
      if (r.validation) {
        line[o.validation_name + "_loss"] = r.validation->loss;
        if (r.validation->accuracy) line[o.validation_name + "_accuracy"] = *r.validation->accuracy;
        line["improved"] = r.improved;
      }
      log << line.dump() << '\n' << std::flush;
      if (!log) throw Error("writing the log " + o.log.string() + " failed", "check the disk has space");
    }
    result.epochs.push_back(r);
    if (o.on_epoch) o.on_epoch(r);
    if (o.patience > 0 && since_best >= o.patience) {
      result.stopped_early = true;
      if (o.progress)
        std::fprintf(stderr, "early stop: %u epochs without improvement (best: epoch %u, %s)\n", o.patience,
                     result.best_epoch, number(result.best_metric).c_str());
      break;
    }
  }
  return result;
}

io::Metadata resume(train::Trainer& trainer, Batches& train, const std::filesystem::path& checkpoint) {
  io::Metadata meta;
  auto state = io::load_checkpoint(checkpoint, &meta);
  const auto epoch = meta.find(kEpochKey), next = meta.find(kNextKey);
  if (epoch == meta.end() || next == meta.end())
    throw Error(checkpoint.string() + " has no data position (" + kEpochKey + ", " + kNextKey + ")",
                "resume from a checkpoint fit() wrote (FitOptions::checkpoint)");
  uint64_t e = 0, n = 0;
  try {
    e = std::stoull(epoch->second);
    n = std::stoull(next->second);
  } catch (const std::exception&) {
    throw Error(checkpoint.string() + ": its data position '" + epoch->second + "', '" + next->second +
                    "' is not a pair of numbers",
                "the checkpoint is damaged");
  }
  trainer.load_state(state);
  train.order().seek({e, n});
  meta.erase(kEpochKey);
  meta.erase(kNextKey);
  return meta;
}

}  // namespace vkgrad::fit
