// fit::fit: a regression learns with validation, logs every epoch and keeps the best checkpoint;
// patience stops a run that no longer improves; a resumed run ends bitwise where a straight one
// does; a diverging run stops with Diverged; accuracy is measured for classification.
#include "vk_fixture.hpp"
#include "vkgrad/error.hpp"
#include "vkgrad/fit/fit.hpp"
#include "vkgrad/graph/sequential.hpp"
#include "vkgrad/infer/model.hpp"

#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>

namespace vkgrad::test {
namespace {

namespace fs = std::filesystem;

graph::Graph regressor() {
  graph::Graph g;
  graph::Sequential net(g, g.input("x", {1}));
  net.linear(16).tanh().linear(1);
  g.mse(net.output(), g.input("y", {1}));
  return g;
}

// y = sin(2x) on [-1.5, 1.5].
data::Dataset wave(uint32_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.5f, 1.5f);
  data::Dataset d{.features = 1};
  for (uint32_t i = 0; i < n; ++i) {
    d.x.push_back(u(rng));
    d.targets.push_back(std::sin(2.0f * d.x.back()));
  }
  return d;
}

struct Fit : VkTest {
  fs::path dir = fs::temp_directory_path() / ("vkgrad-fit-" + std::to_string(std::random_device{}()));
  data::Dataset train_set = wave(256, 1), val_set = wave(64, 2);
  Fit() { fs::create_directories(dir); }
  ~Fit() override { fs::remove_all(dir); }
  static train::TrainerCreateInfo info(float lr = 1e-2f) {
    return {.batch_size = 32, .optimizer = train::OptimizerConfig::adamw(lr, 0.0f)};
  }
};

TEST_F(Fit, RegressionLearnsLogsAndKeepsTheBestCheckpoint) {
  train::Trainer trainer(context(), regressor(), info(3e-2f));
  fit::DatasetBatches train(train_set, {.batch_size = 32, .seed = 3});
  fit::DatasetBatches val(val_set, {.batch_size = 32, .shuffle = false});
  std::vector<uint32_t> seen;
  const auto result = fit::fit(trainer, train, &val,
                               {.epochs = 12,
                                .best_checkpoint = dir / "best.safetensors",
                                .log = dir / "log.jsonl",
                                .progress = false,
                                .on_epoch = [&](const fit::EpochReport& r) { seen.push_back(r.epoch); }});
  ASSERT_EQ(result.epochs.size(), 12u);
  EXPECT_EQ(seen, (std::vector<uint32_t>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}));
  EXPECT_EQ(result.samples, 12u * 256);
  const double first = result.epochs.front().validation->loss, last = result.epochs.back().validation->loss;
  // Predicting the mean scores about 0.5 (the variance of sin(2x) here): a tenth of that is learning.
  EXPECT_LT(last, first) << "validation loss " << first << " → " << last;
  EXPECT_LT(last, 0.05);
  EXPECT_FALSE(result.epochs.back().validation->accuracy) << "no accuracy for regression";

  // The log: one line per epoch with the validation figures.
  std::ifstream log(dir / "log.jsonl");
  std::string line;
  std::vector<nlohmann::json> lines;
  while (std::getline(log, line)) lines.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(lines.size(), 12u);
  EXPECT_EQ(lines[4]["epoch"], 5);
  EXPECT_DOUBLE_EQ(lines[4]["val_loss"].get<double>(), result.epochs[4].validation->loss);

  // The best checkpoint holds the best epoch's weights: evaluated again, its loss is the best.
  ASSERT_GE(result.best_epoch, 1u);
  double best = 1e30;
  for (const auto& r : result.epochs) best = std::min(best, r.validation->loss);
  EXPECT_DOUBLE_EQ(result.best_metric, best);
  train::Trainer reloaded(context(), regressor(), info(3e-2f));
  reloaded.load_state(io::load_checkpoint(dir / "best.safetensors"));
  EXPECT_NEAR(fit::evaluate(reloaded, val).loss, best, 1e-6 * best);
}

TEST_F(Fit, PatienceStopsARunThatNoLongerImproves) {
  // A learning rate of 0: the first epoch sets the best, the next ones tie it.
  train::Trainer trainer(context(), regressor(), info(0.0f));
  fit::DatasetBatches train(train_set, {.batch_size = 32});
  fit::DatasetBatches val(val_set, {.batch_size = 32, .shuffle = false});
  const auto result = fit::fit(trainer, train, &val, {.epochs = 10, .patience = 2, .progress = false});
  EXPECT_TRUE(result.stopped_early);
  EXPECT_EQ(result.epochs.size(), 3u);
  EXPECT_EQ(result.best_epoch, 1u);
  EXPECT_THROW(fit::fit(trainer, train, nullptr, {.epochs = 10, .patience = 2, .progress = false}), Error);
}

TEST_F(Fit, AResumedRunEndsWhereAStraightOneDoes) {
  train::Trainer straight(context(), regressor(), info());
  fit::DatasetBatches a(train_set, {.batch_size = 32, .seed = 5});
  fit::fit(straight, a, nullptr, {.epochs = 4, .progress = false});

  {
    train::Trainer first(context(), regressor(), info());
    fit::DatasetBatches b(train_set, {.batch_size = 32, .seed = 5});
    fit::fit(first, b, nullptr,
             {.epochs = 2, .checkpoint = dir / "ckpt.safetensors", .checkpoint_metadata = {{"model", "wave"}},
              .progress = false});
  }
  train::Trainer resumed(context(), regressor(), info());
  fit::DatasetBatches c(train_set, {.batch_size = 32, .seed = 5});
  const auto meta = fit::resume(resumed, c, dir / "ckpt.safetensors");
  EXPECT_EQ(meta.at("model"), "wave");
  EXPECT_EQ(c.order().position().epoch, 2u);
  const auto result = fit::fit(resumed, c, nullptr, {.epochs = 4, .progress = false});
  EXPECT_EQ(result.epochs.front().epoch, 3u);
  for (const auto& name : straight.parameter_names())
    EXPECT_EQ(straight.parameter(name), resumed.parameter(name)) << name;
}

TEST_F(Fit, ADivergingRunStopsWithTheDiagnosis) {
  train::Trainer trainer(context(), regressor(), info(1e30f));
  fit::DatasetBatches train(train_set, {.batch_size = 32});
  try {
    fit::fit(trainer, train, nullptr, {.epochs = 50, .progress = false, .max_consecutive_skipped = 3});
    ADD_FAILURE() << "a learning rate of 1e30 trained on";
  } catch (const fit::Diverged& e) {
    EXPECT_EQ(e.consecutive, 3u);
    EXPECT_NE(std::string(e.what()).find("3 consecutive steps skipped"), std::string::npos) << e.what();
  }
}

TEST_F(Fit, AccuracyForClassification) {
  // Two classes by the sign of x: learnable to (nearly) perfect accuracy.
  const auto classes = [](const data::Dataset& w) {
    data::Dataset d{.x = w.x, .features = 1};
    for (float v : w.x) d.labels.push_back(v > 0 ? 1 : 0);
    return d;
  };
  const auto train_set2 = classes(train_set), val_set2 = classes(val_set);
  graph::Graph g;
  graph::Sequential net(g, g.input("x", {1}));
  net.linear(8).tanh().linear(2);
  g.cross_entropy(net.output(), g.labels("y"));
  train::Trainer trainer(context(), g, {.batch_size = 32, .optimizer = train::OptimizerConfig::adamw(3e-2f)});
  fit::DatasetBatches train(train_set2, {.batch_size = 32, .seed = 1});
  fit::DatasetBatches val(val_set2, {.batch_size = 32, .shuffle = false});
  const auto result = fit::fit(trainer, train, &val, {.epochs = 6, .metric = fit::Metric::Accuracy, .progress = false});
  ASSERT_TRUE(result.epochs.back().validation->accuracy);
  EXPECT_GE(*result.epochs.back().validation->accuracy, 0.95);
  EXPECT_DOUBLE_EQ(result.best_metric, [&] {
    double best = 0;
    for (const auto& r : result.epochs) best = std::max(best, *r.validation->accuracy);
    return best;
  }());
  // Accuracy cannot be watched on regression targets.
  fit::DatasetBatches wave_val(val_set, {.batch_size = 32, .shuffle = false});
  train::Trainer reg(context(), regressor(), info());
  EXPECT_THROW(fit::fit(reg, train, &wave_val, {.metric = fit::Metric::Accuracy, .progress = false}), Error);
}

}  // namespace
}  // namespace vkgrad::test
