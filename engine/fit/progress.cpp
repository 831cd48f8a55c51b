#include "fit/progress.hpp"

#include <cstdio>

namespace vkgrad::fit {

Progress::Progress(uint64_t epoch, uint64_t epochs, uint64_t samples, bool shown)
    : epoch_(epoch), epochs_(epochs), samples_(samples), shown_(shown), start_(std::chrono::steady_clock::now()) {}

void Progress::update(uint64_t done, const train::Metrics& m) {
  const auto now = std::chrono::steady_clock::now();
  if (!shown_ || (now - drawn_ < std::chrono::milliseconds(250) && done < samples_)) return;
  drawn_ = now;
  draw(done, m, now);
}

void Progress::finish(const train::Metrics& m, const std::string& summary) {
  if (!shown_) return;
  draw(samples_, m, std::chrono::steady_clock::now());
  std::fprintf(stderr, " %s\n", summary.c_str());
}

void Progress::abandon() {
  if (shown_) std::fprintf(stderr, "\n");
}

void Progress::draw(uint64_t done, const train::Metrics& m, std::chrono::steady_clock::time_point now) {
  const double seconds = std::chrono::duration<double>(now - start_).count();
  const double rate = seconds > 0 ? double(done) / seconds : 0;
  const double eta = rate > 0 ? double(samples_ - done) / rate : 0;
  constexpr int width = 24;
  const int filled = samples_ ? int(width * double(done) / double(samples_)) : width;
  char bar[width + 1];
  for (int i = 0; i < width; ++i) bar[i] = i < filled ? '#' : '.';
  bar[width] = 0;
  // Until the first step completes there is no loss to show.
  char stats[96] = "loss -";
  if (m.valid)
    std::snprintf(stats, sizeof stats, "loss %.4f scale %g skipped %llu", m.loss, m.loss_scale,
                  static_cast<unsigned long long>(m.skipped_steps));
  std::fprintf(stderr, "\repoch %llu/%llu [%s] %6llu/%llu %7.0f samples/s %s ETA %3.0fs ",
               static_cast<unsigned long long>(epoch_), static_cast<unsigned long long>(epochs_), bar,
               static_cast<unsigned long long>(done), static_cast<unsigned long long>(samples_), rate, stats, eta);
}

}  // namespace vkgrad::fit
