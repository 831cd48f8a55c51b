// `vkgrad-bench gemm`: GPU-timed GEMMs of every variant, checked against a float64 reference.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

namespace vkgrad::bench {

struct GemmBenchOptions {
  std::vector<uint32_t> sizes{256, 512, 1024};
  std::string variant = "all";  // all | coopmat | tiled16 | fp32
  uint32_t check_max = 1024;    // sizes above this skip the CPU reference (max_rel_err null)
  std::optional<double> peak_tflops;
  double seconds_per_row = 0.5;  // timed work aimed for per row
};

// Runs the benchmark on the default device; progress on stderr; returns the JSON document.
nlohmann::json run_gemm_bench(const GemmBenchOptions& options);

}  // namespace vkgrad::bench
