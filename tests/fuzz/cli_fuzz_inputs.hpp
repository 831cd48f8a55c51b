// How the command-line fuzz target turns bytes into a parse: the bytes split at NUL into at most
// 32 arguments for vkgrad-bench's command line (tools/vkgrad-bench/bench_cli.hpp). A parse either
// ends in CLI11's ParseError (the message a user sees) or yields options inside every bound the
// options declare; anything else (another exception, a value out of its bound) is a finding.
// tool_tests replays the seed corpus through the same function. Stateless.
#pragma once

#include "bench_cli.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

namespace vkgrad::fuzz {

inline void cli_input(const uint8_t* data, size_t size) {
  std::vector<std::string> args(1);
  for (size_t i = 0; i < size; ++i) {
    if (data[i] == 0) {
      if (args.size() == 32) return;
      args.emplace_back();
    } else {
      args.back() += char(data[i]);
    }
  }
  CLI::App app{"vkgrad-bench"};
  bench::BenchCli cli;
  cli.add_to(app);
  std::reverse(args.begin(), args.end());  // CLI11 takes them last first
  try {
    app.parse(args);
  } catch (const CLI::ParseError&) {
    return;
  }
  const auto in = [](double v, double lo, double hi) { return std::isfinite(v) && v >= lo && v <= hi; };
  const auto all_in = [](const std::vector<uint32_t>& v, uint32_t lo, uint32_t hi) {
    return std::all_of(v.begin(), v.end(), [&](uint32_t x) { return x >= lo && x <= hi; });
  };
  bool ok = true;
  if (app.got_subcommand(cli.gemm_cmd))
    ok = in(cli.peak, 0, 1e6) && in(cli.gemm.seconds_per_row, 1e-3, 3600) && all_in(cli.gemm.sizes, 1, 16384);
  else if (app.got_subcommand(cli.conv_cmd))
    ok = in(cli.conv.check_max_gflop, 0, 1e6) && in(cli.conv.seconds_per_row, 1e-3, 3600);
  else if (app.got_subcommand(cli.attention_cmd))
    ok = all_in(cli.attention.contexts, 2, 65536) && all_in(cli.attention.head_dims, 1, 1024) &&
         cli.attention.heads >= 1 && cli.attention.heads <= 256 && cli.attention.steps >= 1;
  else if (app.got_subcommand(cli.train_cmd))
    ok = in(cli.train.lr, 0, 1e30) && cli.train.batch >= 1 && cli.train.batch <= (1u << 20) && cli.train.steps >= 1;
  else if (app.got_subcommand(cli.soak_cmd))
    ok = cli.soak.batch >= 1 && cli.soak.batch <= (1u << 20) && cli.soak.steps >= 1 && cli.sample_every >= 1;
  else
    ok = false;  // one subcommand is required
  if (!ok) std::abort();
}

}  // namespace vkgrad::fuzz
