// Mixed precision keeps a transformer's residual stream fp32 (ops::activation_types) in a real
// trainer: token embeddings of 1024 plus position embeddings of a few 64ths, layer-normalized.
// In fp16 the sum would round to 1024 (its spacing there is 1) and every row would normalize to
// β = 0; in fp32 it is exact, so the predictions and the gradients of both tables match a
// float64 reference up to the fp16 rounding of what the layer norm writes and receives.
//
// Tolerances. The predictions are the layer norm's output rounded to fp16 (2^-11 relative) after
// fp32 statistics of 8 exact terms: 4·2^-11·(1 + |y|). The gradients: dy = 2(y − t)/N is formed
// from fp16 y and stored fp16 (scaled by the loss scale), each ≤ 2·2^-11 relative, and the layer
// norm's backward is a fixed combination of each row's 8 dy (|x̂| ≤ √8), so a gradient is off by
// at most ~(1 + 2·8)·2·2^-11 of the row's largest |dy|·rstd; 64·2^-11 of the largest gradient
// covers that, while an fp16 stream would leave them off by all of their size.
#include "numerics.hpp"
#include "reference/layer_norm.hpp"
#include "vk_fixture.hpp"
#include "vkgrad/train/trainer.hpp"

#include <algorithm>
#include <cmath>

namespace vkgrad::test {
namespace {

TEST_F(VkTest, MixedPrecisionKeepsTheResidualStreamFp32) {
  const uint32_t rows = 3, positions = 4, vocab = 5, dim = 8;
  graph::Graph g;
  const auto ids = g.labels("idx", {positions});
  const auto sum = g.add(g.embedding(ids, vocab, dim, "wte"), g.parameter("wpe", {positions, dim}, {}));
  g.mse(g.flatten(g.layer_norm(sum, "ln")), g.input("target", {positions * dim}));
  train::TrainerCreateInfo info;
  info.batch_size = rows;
  info.precision = train::Precision::Mixed;
  info.optimizer = train::OptimizerConfig::sgd(0.0f);
  train::Trainer t(context(), g, info);

  const std::vector<float> wte(vocab * dim, 1024.0f);
  std::vector<float> wpe(positions * dim);
  for (size_t i = 0; i < wpe.size(); ++i) wpe[i] = float(int(i * 37 % 29) - 14) / 64.0f;  // exact in fp16
  t.set_parameter("wte.weight", wte);
  t.set_parameter("wpe", wpe);
  const std::vector<int32_t> idx = {1, 3, 3, 0, 4, 1, 1, 2, 0, 2, 4, 3};
  std::vector<float> target;
  for (double v : uniform(rows * positions * dim, -1, 1, 5)) target.push_back(float(v));
  const train::Batch batch{rows, {{{}, idx}, {target}}};

  // float64: x = 1024 + wpe, whatever the token.
  std::vector<double> x(rows * positions * dim);
  for (size_t i = 0; i < x.size(); ++i) x[i] = 1024.0 + double(wpe[i % wpe.size()]);
  const std::vector<double> gamma(dim, 1.0), beta(dim, 0.0);
  const auto y = reference::layer_norm_forward(x, gamma, beta, rows * positions, dim, 1e-5);

  const auto got = t.evaluate(batch).predictions;
  std::vector<double> tol(y.size());
  for (size_t i = 0; i < y.size(); ++i) tol[i] = 4 * 0x1p-11 * (1 + std::fabs(y[i]));
  EXPECT_TRUE(all_close(std::vector<double>(got.begin(), got.end()), y, tol)) << "predictions";

  t.step(batch);
  ASSERT_FALSE(t.metrics(train::Wait::Yes).skipped);
  std::vector<double> dy(y.size());
  for (size_t i = 0; i < y.size(); ++i) dy[i] = 2 * (y[i] - target[i]) / double(y.size());
  const auto dx = reference::layer_norm_backward(x, dy, gamma, rows * positions, dim, 1e-5).dx;
  std::vector<double> dwpe(wpe.size(), 0.0), dwte(wte.size(), 0.0);
  for (size_t i = 0; i < dx.size(); ++i) {
    const size_t position = i / dim % positions, row = i / (dim * positions);
    dwpe[i % wpe.size()] += dx[i];
    dwte[size_t(idx[row * positions + position]) * dim + i % dim] += dx[i];
  }
  for (const auto& [name, want] : {std::pair{"wpe", &dwpe}, std::pair{"wte.weight", &dwte}}) {
    const auto dev = t.gradient(name);
    double largest = 0;
    for (double v : *want) largest = std::max(largest, std::fabs(v));
    ASSERT_GT(largest, 1e-3) << name;
    EXPECT_TRUE(all_close(std::vector<double>(dev.begin(), dev.end()), *want, 64 * 0x1p-11 * largest, 0)) << name;
  }
}

}  // namespace
}  // namespace vkgrad::test
