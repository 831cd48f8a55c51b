// `vkgrad-bench train` reproducing a run from files, as one would a PyTorch run: parameters from
// --init, samples from --data consumed in order (partial last batch dropped), one trace line per
// step, and --inject-nonfinite skipping a step. The traced losses must follow a float64
// reference that trains the same MLP with the same SGD steps.
//
// Tolerance: fp32 training against float64 — forward/backward roundings of ~1e-6 relative per
// layer compound over 5 steps of SGD at lr 0.1; 1e-4·loss covers that, while a wrong
// data order, a missed skip or a wrong update changes the loss by > 1e-2.
#include "numerics.hpp"
#include "reference/mlp.hpp"
#include "vkgrad/io/safetensors.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <random>

#ifndef VKGRAD_BENCH_BIN
#error "VKGRAD_BENCH_BIN must name vkgrad-bench"
#endif

namespace vkgrad::test {
namespace {

namespace fs = std::filesystem;

TEST(BenchTrain, ReproducesAReferenceRunFromFiles) {
  std::random_device rd;
  const fs::path dir = fs::temp_directory_path() / ("vkgrad-bench-" + std::to_string(rd()));
  fs::create_directories(dir);
  const std::vector<uint32_t> sizes = {6, 10, 4};
  const uint32_t batch = 8, samples = 44;  // 5 full batches; 4 samples dropped
  reference::Mlp m{sizes, reference::MlpActivation::Relu, reference::MlpLoss::CrossEntropy, {}, {}};
  std::vector<std::vector<float>> init;
  std::vector<io::TensorToWrite> tensors;
  std::vector<std::string> names;
  for (uint32_t l = 0; l + 1 < sizes.size(); ++l) {
    m.weights.push_back(round_for(kernels::ElemType::F32, uniform(size_t(sizes[l + 1]) * sizes[l], -0.5, 0.5, 10 + l)));
    m.biases.push_back(round_for(kernels::ElemType::F32, uniform(sizes[l + 1], -0.1, 0.1, 20 + l)));
  }
  for (uint32_t l = 0; l + 1 < sizes.size(); ++l) {
    init.emplace_back(m.weights[l].begin(), m.weights[l].end());
    init.emplace_back(m.biases[l].begin(), m.biases[l].end());
  }
  for (uint32_t l = 0; l + 1 < sizes.size(); ++l) {
    names.push_back("layers." + std::to_string(l) + ".weight");
    names.push_back("layers." + std::to_string(l) + ".bias");
  }
  for (size_t i = 0; i < init.size(); ++i) {
    const uint32_t l = uint32_t(i / 2);
    std::vector<uint64_t> shape = i % 2 ? std::vector<uint64_t>{sizes[l + 1]} : std::vector<uint64_t>{sizes[l + 1], sizes[l]};
    tensors.push_back({names[i], io::Dtype::F32, shape, std::as_bytes(std::span(init[i]))});
  }
  io::save_safetensors(dir / "init.safetensors", tensors);

  std::vector<float> x;
  for (double v : uniform(size_t(samples) * sizes[0], -1, 1, 30)) x.push_back(float(v));
  std::vector<int64_t> y;
  for (double v : uniform(samples, 0, sizes.back(), 31)) y.push_back(int64_t(v));
  const io::TensorToWrite data[] = {{"x", io::Dtype::F32, {samples, sizes[0]}, std::as_bytes(std::span(x))},
                                    {"y", io::Dtype::I64, {samples}, std::as_bytes(std::span(y))}};
  io::save_safetensors(dir / "data.safetensors", data);

  // Validation on and rule-based kernel choices, as in every test.
  const std::string cmd = "VKGRAD_VALIDATION=1 VKGRAD_TUNE=0 " + std::string(VKGRAD_BENCH_BIN) +
                          " train --layers 6,10,4 --activation relu --loss cross_entropy --optimizer sgd --lr 0.1"
                          " --batch 8 --steps 7 --warmup 0 --precision fp32 --inject-nonfinite 2 --init " +
                          (dir / "init.safetensors").string() + " --data " + (dir / "data.safetensors").string() +
                          " --trace " + (dir / "trace.jsonl").string() + " --json > " + (dir / "out.json").string() +
                          " 2> " + (dir / "err.txt").string();
  ASSERT_EQ(std::system(cmd.c_str()), 0) << std::ifstream(dir / "err.txt").rdbuf();
  {
    std::stringstream err;
    err << std::ifstream(dir / "err.txt").rdbuf();
    EXPECT_EQ(err.str().find("validation"), std::string::npos) << err.str();
  }
  std::vector<nlohmann::json> trace;
  std::ifstream in(dir / "trace.jsonl");
  for (std::string line; std::getline(in, line);) trace.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(trace.size(), 7u);

  // The reference: batches in order, wrapping after 5; step 2 computes its loss but is skipped.
  for (uint32_t step = 0; step < 7; ++step) {
    const uint32_t b = step % 5;
    const std::vector<double> xb(x.begin() + b * batch * sizes[0], x.begin() + (b + 1) * batch * sizes[0]);
    const std::vector<int32_t> yb(y.begin() + b * batch, y.begin() + (b + 1) * batch);
    const auto g = reference::mlp_gradients(m, xb, yb, {}, batch);
    EXPECT_EQ(trace[step]["step"], step);
    EXPECT_NEAR(trace[step]["loss"].get<double>(), g.loss, 1e-4 * g.loss) << "step " << step;
    EXPECT_EQ(trace[step]["skipped"].get<bool>(), step == 2) << "step " << step;
    if (step == 2) continue;
    for (size_t l = 0; l < m.weights.size(); ++l) {
      for (size_t i = 0; i < m.weights[l].size(); ++i) m.weights[l][i] -= 0.1 * g.weights[l][i];
      for (size_t i = 0; i < m.biases[l].size(); ++i) m.biases[l][i] -= 0.1 * g.biases[l][i];
    }
  }
  const auto summary = nlohmann::json::parse(std::ifstream(dir / "out.json"));
  EXPECT_EQ(summary["skipped_steps"], 1);
  EXPECT_EQ(summary["submits_per_step"], 1.0);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace vkgrad::test
