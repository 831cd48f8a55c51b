// vkgrad-bench's command line: every subcommand, its options and their bounds, added to a
// CLI::App (main.cpp parses argv with it; tests/fuzz/cli_fuzz.cpp feeds it arbitrary arguments).
// Plain values; one thread at a time.
#pragma once

#include "attention_bench.hpp"
#include "conv_bench.hpp"
#include "gemm_bench.hpp"
#include "train_bench.hpp"

#include <CLI/CLI.hpp>

namespace vkgrad::bench {

struct BenchCli {
  GemmBenchOptions gemm;
  double peak = 0;  // --peak: copied into gemm.peak_tflops when given
  ConvBenchOptions conv;
  AttentionBenchOptions attention;
  TrainBenchOptions train;
  TrainBenchOptions soak{.layers = {784, 256, 256, 10}, .batch = 128, .steps = 20000};
  uint32_t sample_every = 1000;
  bool as_json = false;
  CLI::App *gemm_cmd = nullptr, *conv_cmd = nullptr, *attention_cmd = nullptr, *train_cmd = nullptr,
           *soak_cmd = nullptr;

  // Adds the subcommands and options to `app` (which must outlive nothing here but be kept).
  void add_to(CLI::App& app);
};

}  // namespace vkgrad::bench
