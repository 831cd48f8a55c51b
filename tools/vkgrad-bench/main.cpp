// vkgrad-bench: throughput numbers (and JSON), never pass/fail.
//   vkgrad-bench gemm [--sizes 256,512,1024] [--variant all|coopmat|tiled16|fp32] [--json]
#include "gemm_bench.hpp"
#include "vkgrad/error.hpp"

#include <CLI/CLI.hpp>

#include <cstdio>
#include <iostream>

int main(int argc, char** argv) {
  CLI::App app{"vkgrad-bench: GPU-timed throughput of vkgrad's kernels"};
  app.require_subcommand(1);
  bool as_json = false;
  app.add_flag("--json", as_json, "one JSON document on stdout");

  vkgrad::bench::GemmBenchOptions gemm;
  double peak = 0;
  auto* g = app.add_subcommand("gemm", "square GEMMs of every variant, checked against float64");
  g->add_option("--sizes", gemm.sizes, "matrix sizes")->delimiter(',')->check(CLI::Range(1u, 16384u));
  g->add_option("--variant", gemm.variant, "all, coopmat, tiled16 or fp32");
  g->add_option("--check-max", gemm.check_max, "largest size checked against the CPU reference");
  g->add_option("--peak-tflops", peak, "the device's peak, to report the fraction reached");
  g->add_option("--seconds", gemm.seconds_per_row, "timed work per row (seconds)");
  g->add_flag("--json", as_json, "one JSON document on stdout");
  CLI11_PARSE(app, argc, argv);
  if (peak > 0) gemm.peak_tflops = peak;
  try {
    const auto doc = vkgrad::bench::run_gemm_bench(gemm);
    if (as_json) std::cout << doc.dump(2) << '\n';
  } catch (const vkgrad::Error& e) {
    std::fprintf(stderr, "vkgrad-bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
