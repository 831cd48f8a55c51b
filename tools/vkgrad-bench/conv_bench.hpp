// `vkgrad-bench conv`: GPU-timed convolution passes (forward, data gradient, weight gradient)
// as implicit GEMMs, per GEMM variant, at ResNet-like shapes, checked against the float64
// reference.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace vkgrad::bench {

struct ConvBenchOptions {
  // "NxCxHxW,OxK[,sS][,pP][,gG]": batch, input channels, size, output channels, kernel, and
  // optionally stride, padding and groups.
  std::vector<std::string> shapes{"32x64x56x56,64x3,p1", "32x128x28x28,128x3,p1", "32x256x14x14,256x3,p1",
                                  "32x64x56x56,128x1,s2", "32x3x224x224,64x7,s2,p3"};
  std::string variant = "all";  // all | coopmat | coopmat2 | tiled16 | fp32 | cpu
  std::string types = "f16";    // f16 | f32
  double check_max_gflop = 2.0;  // passes above this many GFLOP skip the CPU reference
  double seconds_per_row = 0.5;
};

nlohmann::json run_conv_bench(const ConvBenchOptions& options);

}  // namespace vkgrad::bench
