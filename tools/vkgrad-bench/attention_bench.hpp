// `vkgrad-bench attention`: causal self-attention training steps (forward + backward of
// Graph::causal_self_attention, its projections included) at several contexts and head sizes,
// fused and composed: tokens/s and the activation memory the trainer plans, which for the
// composed attention grows with T² (its score and probability matrices) and for the fused one
// with T (its outputs and one log-sum-exp per row). With --variants, also the fused kernel
// alone (forward and backward on random fp16 data, GPU timestamps) in each variant named that
// the device runs: scalar, coopmat.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace vkgrad::bench {

struct AttentionBenchOptions {
  std::vector<uint32_t> contexts{64, 256, 1024};
  std::vector<uint32_t> head_dims{32, 64};
  std::vector<std::string> kernels{"fused", "composed"};
  std::vector<std::string> variants;  // kernels::AttentionVariant names timed alone
  uint32_t heads = 4;
  uint32_t tokens = 8192;  // per step: batch = tokens / context (at least 1)
  uint32_t steps = 5;      // timed, after one untimed
  std::string precision = "mixed";
};

nlohmann::json run_attention_bench(const AttentionBenchOptions& options);

}  // namespace vkgrad::bench
