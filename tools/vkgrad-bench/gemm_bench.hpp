// `vkgrad-bench gemm`: GPU-timed GEMMs of every variant and preset, checked against a float64
// reference.
#pragma once

#include "vkgrad/kernels/gemm.hpp"
#include "vkgrad/vk/context.hpp"

#include <nlohmann/json.hpp>

#include <array>
#include <optional>
#include <string>
#include <vector>

namespace vkgrad::bench {

struct GemmBenchOptions {
  std::vector<uint32_t> sizes{256, 512, 1024};  // square shapes s×s×s
  std::vector<std::string> shapes;             // more shapes as "MxNxK"
  std::string variant = "all";                 // all | coopmat | coopmat2 | tiled16 | fp32 | cpu
  std::string layout = "nn";                   // nn | nt | tn | tt: whether op(A), op(B) are transposed
  std::string types = "f16";                   // f16 | f32: the operands' element type
  uint32_t check_max = 1024;  // shapes with a dimension above this skip the CPU reference (max_rel_err null)
  std::optional<double> peak_tflops;
  double seconds_per_row = 0.5;  // timed work aimed for per row
};

// Runs the benchmark on the default device; progress on stderr; returns the JSON document.
nlohmann::json run_gemm_bench(const GemmBenchOptions& options);

// The GEMM variants a benchmark runs: with `name` "all", every one this device runs for operands
// of `type`; else the one named (Error for an unknown name).
std::vector<kernels::GemmVariant> bench_variants(const vk::Caps& caps, kernels::ElemType type, const std::string& name);

// GPU time (timestamps) of each of `reps` recordings of one GEMM with a fixed choice, submitted
// together and waited for.
std::vector<double> time_gemm(vk::Context& ctx, const kernels::GemmDesc& desc, const kernels::GemmChoice& choice,
                              uint32_t reps);

}  // namespace vkgrad::bench
