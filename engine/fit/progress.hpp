// A one-line progress bar on stderr for an epoch: samples/s, loss, loss scale, skipped steps
// and the time left, redrawn at most four times a second; at the end, the epoch's evaluation.
// Not thread-safe.
#pragma once

#include "vkgrad/train/trainer.hpp"

#include <chrono>
#include <cstdint>
#include <string>

namespace vkgrad::fit {

class Progress {
public:
  // Draws nothing when not `shown`.
  Progress(uint64_t epoch, uint64_t epochs, uint64_t samples, bool shown);
  void update(uint64_t done, const train::Metrics& m);
  // The full bar, then `summary` ("val loss 0.41 accuracy 0.88") and a line break.
  void finish(const train::Metrics& m, const std::string& summary);
  // Ends the line early (an error follows).
  void abandon();

private:
  void draw(uint64_t done, const train::Metrics& m, std::chrono::steady_clock::time_point now);

  uint64_t epoch_, epochs_, samples_;
  bool shown_;
  std::chrono::steady_clock::time_point start_, drawn_{};
};

}  // namespace vkgrad::fit
