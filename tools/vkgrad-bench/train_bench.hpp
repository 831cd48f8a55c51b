// `vkgrad-bench train`: steps/s of a model trained with the Trainer, with its counters and the
// device-memory split and GPU time per pass; optionally reproducing a PyTorch run (--init,
// --data, --trace).
#pragma once

#include "vkgrad/dist/communicator.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace vkgrad::bench {

struct TrainBenchOptions {
  std::string model = "mlp";
  std::vector<uint32_t> layers{1024, 1024, 1024, 1024};
  std::string activation = "relu";    // relu, gelu, gelu_tanh, tanh, sigmoid
  std::string loss = "cross_entropy";  // cross_entropy, mse
  std::string optimizer = "adamw";     // sgd, adam, adamw
  float lr = 1e-3f;
  float momentum = 0.0f;
  uint32_t batch = 1024;
  uint32_t steps = 50;
  uint32_t warmup = 3;  // steps run before timing starts (pipeline compiles, first touches)
  std::string precision = "mixed";
  std::string attention = "auto";  // transformer: graph::AttentionImpl
  uint64_t seed = 0;
  std::string init;   // safetensors with layers.N.weight / layers.N.bias
  std::string data;   // safetensors with x [S, in] and y
  std::string trace;  // JSON lines, one per step
  std::vector<uint32_t> inject_nonfinite;  // 0-based steps whose gradients get an inf
  uint32_t profile_steps = 5;  // then GPU time per pass from timestamps, mean of this many steps (0: off)
  bool data_parallel = false;  // one rank of an MPI job: --batch is the global batch
  double bucket_mib = 25;      // data parallel: TrainerCreateInfo::gradient_bucket_bytes in MiB
};

// With `comm`, this process is one of comm->size() data-parallel ranks, each stepping on
// batch / size rows; the figures add the ranks' total and the gradient exchange's time.
nlohmann::json run_train_bench(const TrainBenchOptions& options, dist::Communicator* comm = nullptr);

// `vkgrad-bench soak`: options.steps steps of the same model, sampling every `sample_every`
// steps the device memory in use (VK_EXT_memory_budget), the process's resident memory, its open
// file descriptors and the pipelines created; the growth from the first sample (after warm-up)
// to the last is what a leak shows as.
nlohmann::json run_soak(const TrainBenchOptions& options, uint32_t sample_every);

}  // namespace vkgrad::bench
