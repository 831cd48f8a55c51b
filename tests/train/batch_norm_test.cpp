// Batch norm in a trained graph: a step updates the running statistics with PyTorch's momentum
// and unbiased variance and counts the batch; evaluation normalizes by the running statistics
// (not the batch's); the statistics come back in the training state and the state_dict, the
// count as a PyTorch int64 scalar.
//
// Tolerance: the statistics are fp32 sums over 4·6 values of magnitude ≤ 2 (error ≤ 2^-17
// relative, see kernels/batch_norm_test.cpp) and the evaluation output one fp32 normalization of
// those: 1e-5·(1 + |value|) covers both, while using the batch's statistics, a missed update or
// a biased variance is off by > 1e-2.
#include "numerics.hpp"
#include "vk_fixture.hpp"
#include "vkgrad/io/checkpoint.hpp"
#include "vkgrad/io/safetensors.hpp"
#include "vkgrad/train/trainer.hpp"

#include <cmath>
#include <filesystem>
#include <random>

namespace vkgrad::test {
namespace {

using BatchNormTraining = VkTest;

TEST_F(BatchNormTraining, RunningStatisticsUpdateAndEvaluationUsesThem) {
  const uint32_t rows = 4, channels = 2, pixels = 6;
  graph::Graph g;
  const auto x = g.input("x", {channels, 2, 3});
  const auto y = g.flatten(g.batch_norm2d(x, "bn", 1e-5f, 0.25f));
  g.mse(g.linear(y, 2, "fc"), g.input("t", {2}));
  train::TrainerCreateInfo info;
  info.batch_size = rows;
  info.precision = train::Precision::Fp32;
  info.optimizer = train::OptimizerConfig::sgd(0.0f);
  train::Trainer t(context(), g, info);

  std::vector<float> xs, ts(rows * 2, 0.0f);
  for (double v : uniform(size_t(rows) * channels * pixels, -2, 2, 5)) xs.push_back(float(v));
  const train::Batch batch{rows, {{xs}, {ts}}};
  t.step(batch);
  (void)t.metrics(train::Wait::Yes);

  // Running statistics after one step from (0, 1), momentum 0.25, unbiased variance.
  std::vector<double> mean(channels, 0.0), var(channels, 0.0);
  const double n = double(rows) * pixels;
  for (uint32_t c = 0; c < channels; ++c) {
    for (uint32_t r = 0; r < rows; ++r)
      for (uint32_t p = 0; p < pixels; ++p) mean[c] += xs[(r * channels + c) * pixels + p] / n;
    for (uint32_t r = 0; r < rows; ++r)
      for (uint32_t p = 0; p < pixels; ++p) {
        const double d = xs[(r * channels + c) * pixels + p] - mean[c];
        var[c] += d * d / (n - 1);
      }
  }
  const auto state = t.save_state();
  const auto& rm = state.tensors.at("bn.running_mean").values;
  const auto& rv = state.tensors.at("bn.running_var").values;
  for (uint32_t c = 0; c < channels; ++c) {
    EXPECT_NEAR(rm[c], 0.25 * mean[c], 1e-5) << "channel " << c;
    EXPECT_NEAR(rv[c], 0.75 + 0.25 * var[c], 1e-5 * (1 + var[c])) << "channel " << c;
  }
  const auto& count = state.tensors.at("bn.num_batches_tracked");
  EXPECT_EQ(count.values, std::vector<float>{1.0f});
  EXPECT_TRUE(count.integer);
  EXPECT_TRUE(count.shape.empty());

  // Evaluation: fc(normalize by the running statistics); with fc's weights read back, the
  // predictions follow in float64.
  const auto w = t.parameter("fc.weight"), b = t.parameter("fc.bias");
  const auto pred = t.predict(batch);
  ASSERT_EQ(pred.size(), size_t(rows) * 2);
  for (uint32_t r = 0; r < rows; ++r)
    for (uint32_t o = 0; o < 2; ++o) {
      double want = b[o];
      for (uint32_t c = 0; c < channels; ++c)
        for (uint32_t p = 0; p < pixels; ++p) {
          const double z = (xs[(r * channels + c) * pixels + p] - rm[c]) / std::sqrt(rv[c] + 1e-5);
          want += w[o * channels * pixels + c * pixels + p] * z;
        }
      EXPECT_NEAR(pred[r * 2 + o], want, 1e-5 * (1 + std::fabs(want))) << "row " << r << " output " << o;
    }

  // The state_dict holds the buffers under PyTorch's names, the count as an int64 scalar.
  std::random_device rd;
  const auto file = std::filesystem::temp_directory_path() / ("vkgrad-bn-" + std::to_string(rd()) + ".safetensors");
  io::export_state_dict(file, state);
  const auto st = io::SafetensorsFile::load(file);
  std::filesystem::remove(file);
  EXPECT_EQ(st.tensor("bn.num_batches_tracked").dtype, io::Dtype::I64);
  EXPECT_TRUE(st.tensor("bn.num_batches_tracked").shape.empty());
  EXPECT_EQ(st.tensor("bn.running_var").shape, std::vector<uint64_t>{channels});
  EXPECT_EQ(st.tensor("bn.weight").dtype, io::Dtype::F32);
}

}  // namespace
}  // namespace vkgrad::test
