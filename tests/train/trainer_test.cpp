// The trainer against float64 references: gradients of MLPs in both precisions, the loss-scale
// state machine (GradScaler's rules), skipped steps leaving state bitwise unchanged,
// underflow rescue, determinism, partial batches, counters and the memory-budget error.
#include "numerics.hpp"
#include "reference/mlp.hpp"
#include "small_models.hpp"
#include "vk_fixture.hpp"
#include "vkgrad/error.hpp"
#include "vkgrad/kernels/tensor_ref.hpp"
#include "vkgrad/train/trainer.hpp"


#include <algorithm>
#include <cmath>
#include <map>
#include <cstring>

namespace vkgrad::test {
namespace {

using graph::Activation;
using train::Precision;
using train::Wait;

struct MlpCase {
  const char* name;
  reference::MlpActivation activation;
  reference::MlpLoss loss;
};

Activation graph_activation(reference::MlpActivation a) {
  switch (a) {
    case reference::MlpActivation::Relu: return Activation::Relu;
    case reference::MlpActivation::Gelu: return Activation::Gelu;
    case reference::MlpActivation::GeluTanh: return Activation::GeluTanh;
    default: return Activation::None;
  }
}

// An MLP graph as reference::Mlp describes it.
graph::Graph mlp_graph(const std::vector<uint32_t>& sizes, reference::MlpActivation a, reference::MlpLoss loss) {
  graph::Graph g;
  graph::Tensor h = g.input("x", {sizes[0]});
  const graph::Tensor y = loss == reference::MlpLoss::CrossEntropy ? g.labels("y") : g.input("t", {sizes.back()});
  for (size_t l = 0; l + 1 < sizes.size(); ++l) {
    const bool last = l + 2 == sizes.size();
    h = g.linear(h, sizes[l + 1], "layers." + std::to_string(l), last ? Activation::None : graph_activation(a));
    if (!last && a == reference::MlpActivation::Tanh) h = g.tanh(h);
    if (!last && a == reference::MlpActivation::Sigmoid) h = g.sigmoid(h);
  }
  if (loss == reference::MlpLoss::CrossEntropy) g.cross_entropy(h, y);
  if (loss == reference::MlpLoss::Mse) g.mse(h, y);
  if (loss == reference::MlpLoss::L1) g.l1(h, y);
  return g;
}

struct Data {
  std::vector<float> x, targets;
  std::vector<int32_t> labels;
  train::Batch batch(uint32_t rows, bool ce) const {
    train::Batch b;
    b.rows = rows;
    b.feeds.push_back({std::span(x).first(rows * (x.size() / max_rows))});
    if (ce)
      b.feeds.push_back({{}, std::span(labels).first(rows)});
    else
      b.feeds.push_back({std::span(targets).first(rows * (targets.size() / max_rows))});
    return b;
  }
  uint32_t max_rows = 0;
};

Data make_data(uint32_t rows, uint32_t in, uint32_t out, uint32_t seed) {
  Data d;
  d.max_rows = rows;
  for (double v : uniform(size_t(rows) * in, -1, 1, seed)) d.x.push_back(float(v));
  for (double v : uniform(size_t(rows) * out, -1, 1, seed + 1)) d.targets.push_back(float(v));
  for (double v : uniform(rows, 0, out, seed + 2)) d.labels.push_back(int32_t(v));
  return d;
}

// The reference MLP with the trainer's current parameters; under mixed precision the weights
// the device multiplies with are the fp16 working copies, so the reference rounds them too.
reference::Mlp reference_of(train::Trainer& t, const std::vector<uint32_t>& sizes, const MlpCase& c, bool round16) {
  reference::Mlp m{sizes, c.activation, c.loss, {}, {}};
  for (size_t l = 0; l + 1 < sizes.size(); ++l) {
    for (const char* part : {".weight", ".bias"}) {
      std::vector<double> v;
      for (float f : t.parameter("layers." + std::to_string(l) + part))
        v.push_back(round16 ? kernels::half_value(kernels::half_bits(f)) : f);
      (std::string(part) == ".weight" ? m.weights : m.biases).push_back(v);
    }
  }
  return m;
}

double max_abs(const std::vector<double>& v) {
  double m = 0;
  for (double x : v) m = std::max(m, std::fabs(x));
  return m;
}

class TrainerGradients : public VkTestWithParam<std::tuple<Precision, MlpCase>> {};

// One step with lr = 0 leaves the weights alone and the unscaled gradients readable.
// Tolerance, relative to the tensor's largest gradient: fp32 — accumulation over ≤ 12 terms
// per layer and three GEMMs deep, ~1e-5; mixed — activations and activation gradients are
// rounded to fp16 (2^-11 each) through three layers, ~1e-2.
TEST_P(TrainerGradients, MatchReference) {
  const auto& [precision, c] = GetParam();
  const std::vector<uint32_t> sizes = {7, 12, 9, 5};
  const uint32_t rows = 11;
  const bool ce = c.loss == reference::MlpLoss::CrossEntropy;
  vk::Context& ctx = context();
  train::TrainerCreateInfo info;
  info.batch_size = rows;
  info.precision = precision;
  info.optimizer = train::OptimizerConfig::sgd(0.0f);
  info.seed = 5;
  train::Trainer t(ctx, mlp_graph(sizes, c.activation, c.loss), info);
  const Data d = make_data(rows, sizes[0], sizes.back(), 3);
  t.step(d.batch(rows, ce));
  const auto metrics = t.metrics(Wait::Yes);
  ASSERT_TRUE(metrics.valid);
  EXPECT_FALSE(metrics.skipped);

  const bool mixed = precision == Precision::Mixed;
  const auto m = reference_of(t, sizes, c, mixed);
  std::vector<double> x(d.x.begin(), d.x.end()), targets(d.targets.begin(), d.targets.end());
  const auto ref = reference::mlp_gradients(m, x, d.labels, targets, rows);
  const double rel = mixed ? 1e-2 : 1e-5;
  EXPECT_NEAR(metrics.loss, ref.loss, (mixed ? 1e-2 : 1e-5) * std::max(1.0, std::fabs(ref.loss)));
  for (size_t l = 0; l + 1 < sizes.size(); ++l) {
    for (const char* part : {".weight", ".bias"}) {
      const std::string name = "layers." + std::to_string(l) + part;
      const auto& want = std::string(part) == ".weight" ? ref.weights[l] : ref.biases[l];
      std::vector<double> got;
      for (float f : t.gradient(name)) got.push_back(f);
      EXPECT_TRUE(all_close(got, want, rel * max_abs(want) + 1e-7, 0.0)) << name;
    }
  }
}

const MlpCase kMlpCases[] = {
    {"relu_ce", reference::MlpActivation::Relu, reference::MlpLoss::CrossEntropy},
    {"gelu_mse", reference::MlpActivation::Gelu, reference::MlpLoss::Mse},
    {"gelu_tanh_l1", reference::MlpActivation::GeluTanh, reference::MlpLoss::L1},
    {"tanh_ce", reference::MlpActivation::Tanh, reference::MlpLoss::CrossEntropy},
    {"sigmoid_mse", reference::MlpActivation::Sigmoid, reference::MlpLoss::Mse},
};

INSTANTIATE_TEST_SUITE_P(Mlps, TrainerGradients,
                         ::testing::Combine(::testing::Values(Precision::Fp32, Precision::Mixed),
                                            ::testing::ValuesIn(kMlpCases)),
                         [](const ::testing::TestParamInfo<std::tuple<Precision, MlpCase>>& p) {
                           return std::string(std::get<0>(p.param) == Precision::Mixed ? "mixed_" : "fp32_") +
                                  std::get<1>(p.param).name;
                         });

TEST(MlpReference, GradientsMatchFiniteDifferences) {
  for (const auto& c : kMlpCases) {
    reference::Mlp m{{4, 6, 3}, c.activation, c.loss, {}, {}};
    m.weights = {uniform(24, -1, 1, 1), uniform(18, -1, 1, 2)};
    m.biases = {uniform(6, -0.5, 0.5, 3), uniform(3, -0.5, 0.5, 4)};
    const auto x = uniform(20, -1, 1, 5), targets = uniform(15, -1, 1, 6);
    const std::vector<int32_t> labels = {0, 2, 1, 1, 0};
    const auto g = reference::mlp_gradients(m, x, labels, targets, 5);
    // Central differences in float64: truncation O(h²), rounding ~1e-16/h; both far below 1e-6.
    const double h = 1e-6;
    for (size_t l = 0; l < 2; ++l) {
      for (size_t i = 0; i < m.weights[l].size(); ++i) {
        auto p = m, q = m;
        p.weights[l][i] += h;
        q.weights[l][i] -= h;
        const double fd = (reference::mlp_loss(p, x, labels, targets, 5) - reference::mlp_loss(q, x, labels, targets, 5)) / (2 * h);
        EXPECT_NEAR(g.weights[l][i], fd, 1e-6) << c.name << " layer " << l << " weight " << i;
      }
      for (size_t i = 0; i < m.biases[l].size(); ++i) {
        auto p = m, q = m;
        p.biases[l][i] += h;
        q.biases[l][i] -= h;
        const double fd = (reference::mlp_loss(p, x, labels, targets, 5) - reference::mlp_loss(q, x, labels, targets, 5)) / (2 * h);
        EXPECT_NEAR(g.biases[l][i], fd, 1e-6) << c.name << " layer " << l << " bias " << i;
      }
    }
  }
}

train::TrainerCreateInfo small_info(Precision p, uint32_t rows) {
  train::TrainerCreateInfo info;
  info.batch_size = rows;
  info.precision = p;
  info.optimizer = train::OptimizerConfig::adam(1e-2f);
  info.seed = 9;
  return info;
}

const std::vector<uint32_t> kSizes = {6, 10, 4};

graph::Graph small_graph() { return mlp_graph(kSizes, reference::MlpActivation::Relu, reference::MlpLoss::CrossEntropy); }

std::vector<std::vector<float>> all_parameters(train::Trainer& t) {
  std::vector<std::vector<float>> out;
  for (const auto& n : t.parameter_names()) out.push_back(t.parameter(n));
  return out;
}

bool bitwise_equal(const std::vector<std::vector<float>>& a, const std::vector<std::vector<float>>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i].size() != b[i].size() || std::memcmp(a[i].data(), b[i].data(), 4 * a[i].size()) != 0) return false;
  return true;
}

using LossScaling = VkTest;

// A skipped step leaves masters, moments and the optimizer step untouched: after [skip, step]
// the weights are bitwise those of a twin that took only [step].
TEST_F(LossScaling, SkippedStepLeavesStateBitwiseUnchanged) {
  const Data d = make_data(8, kSizes[0], kSizes.back(), 21);
  auto info = small_info(Precision::Fp32, 8);
  train::Trainer a(context(), small_graph(), info);
  train::Trainer b(context(), small_graph(), info);
  const auto initial = all_parameters(a);
  auto poisoned = d.batch(8, true);
  poisoned.inject_nonfinite_gradient = true;
  a.step(poisoned);
  const auto m1 = a.metrics(Wait::Yes);
  EXPECT_TRUE(m1.skipped);
  EXPECT_EQ(m1.skipped_steps, 1u);
  EXPECT_EQ(m1.optimizer_steps, 0u);
  EXPECT_EQ(m1.nonfinite_losses, 0u);
  EXPECT_FLOAT_EQ(m1.loss_scale, 65536.0f);
  EXPECT_TRUE(bitwise_equal(all_parameters(a), initial));
  a.step(d.batch(8, true));
  b.step(d.batch(8, true));
  const auto ma = a.metrics(Wait::Yes), mb = b.metrics(Wait::Yes);
  EXPECT_FALSE(ma.skipped);
  EXPECT_EQ(ma.optimizer_steps, 1u);
  EXPECT_EQ(ma.steps, 2u);
  EXPECT_FLOAT_EQ(ma.loss_scale, 32768.0f);  // backed off once
  EXPECT_FLOAT_EQ(mb.loss_scale, 65536.0f);
  EXPECT_TRUE(bitwise_equal(all_parameters(a), all_parameters(b)));
  EXPECT_FALSE(bitwise_equal(all_parameters(a), initial));
}

TEST_F(LossScaling, ScaleGrowsAfterTheIntervalAndBacksOffOnOverflow) {
  const Data d = make_data(8, kSizes[0], kSizes.back(), 22);
  auto info = small_info(Precision::Mixed, 8);
  info.loss_scale.init_scale = 1024.0f;
  info.loss_scale.growth_interval = 3;
  train::Trainer t(context(), small_graph(), info);
  std::vector<float> used;
  for (int i = 0; i < 8; ++i) {
    auto b = d.batch(8, true);
    b.inject_nonfinite_gradient = i == 4;
    t.step(b);
    used.push_back(t.metrics(Wait::Yes).loss_scale);
  }
  // Three clean steps at 1024, then 2048; step 4 overflows at 2048 → 1024, tracker reset.
  EXPECT_EQ(used, (std::vector<float>{1024, 1024, 1024, 2048, 2048, 1024, 1024, 1024}));
  const auto m = t.metrics(Wait::Yes);
  EXPECT_EQ(m.skipped_steps, 1u);
  EXPECT_EQ(m.optimizer_steps, 7u);
}

// A real overflow: an fp16 loss gradient at scale 2^24 exceeds 65504. The scale halves each
// step until the gradients fit, and only then are steps applied.
TEST_F(LossScaling, Fp16OverflowBacksOffUntilGradientsFit) {
  const Data d = make_data(8, kSizes[0], kSizes.back(), 23);
  auto info = small_info(Precision::Mixed, 8);
  info.loss_scale.init_scale = 16777216.0f;
  train::Trainer t(context(), small_graph(), info);
  const auto initial = all_parameters(t);
  t.step(d.batch(8, true));
  const auto first = t.metrics(Wait::Yes);
  EXPECT_TRUE(first.skipped);
  EXPECT_TRUE(bitwise_equal(all_parameters(t), initial));
  for (int i = 0; i < 12; ++i) t.step(d.batch(8, true));
  const auto m = t.metrics(Wait::Yes);
  EXPECT_FALSE(m.skipped);
  EXPECT_GE(m.skipped_steps, 1u);
  EXPECT_LT(m.loss_scale, 16777216.0f);
  EXPECT_EQ(m.optimizer_steps + m.skipped_steps, 13u);
}

TEST_F(LossScaling, NonFiniteLossIsCountedApartAndKeepsTheScale) {
  Data d = make_data(8, kSizes[0], kSizes.back(), 24);
  d.x[3] = INFINITY;
  train::Trainer t(context(), small_graph(), small_info(Precision::Mixed, 8));
  t.step(d.batch(8, true));
  const auto m = t.metrics(Wait::Yes);
  EXPECT_TRUE(m.skipped);
  EXPECT_EQ(m.nonfinite_losses, 1u);
  EXPECT_EQ(m.skipped_steps, 1u);
  EXPECT_FLOAT_EQ(m.loss_scale, 65536.0f);
  EXPECT_TRUE(std::isnan(m.loss) || std::isinf(m.loss));
}

// Inf and NaN in a step's data are counted on the device (a host with shared feeds never sees
// the data): each step with any, in the inputs or the targets, is one more nonfinite_inputs. In
// FP16 feeds 70000 is already inf (what the device computes with); rows past a partial batch's
// valid rows (stale data of an earlier step) are not looked at.
TEST_F(LossScaling, NonFiniteInputsAreCountedOnTheDevice) {
  for (const Precision p : {Precision::Mixed, Precision::Fp32}) {
    SCOPED_TRACE(p == Precision::Mixed ? "mixed" : "fp32");
    train::Trainer t(context(), small_mse_mlp(), small_info(p, 8));
    const auto batch = [&](uint32_t rows, uint32_t seed, auto&& poison) {
      std::vector<float> x, y;
      for (double v : uniform(rows * 4, -1, 1, seed)) x.push_back(float(v));
      for (double v : uniform(rows * 2, -1, 1, seed + 1)) y.push_back(float(v));
      poison(x, y);
      t.step({rows, {{x}, {y}}});
      return t.metrics(Wait::Yes);
    };
    const auto clean = [](auto&, auto&) {};
    EXPECT_EQ(batch(8, 1, clean).nonfinite_inputs, 0u);
    auto m = batch(8, 2, [](auto& x, auto&) { x[3] = NAN; });
    EXPECT_EQ(m.nonfinite_inputs, 1u);
    EXPECT_TRUE(m.skipped);
    EXPECT_EQ(batch(8, 3, [](auto&, auto& y) { y[5] = -INFINITY; }).nonfinite_inputs, 2u);
    EXPECT_EQ(batch(8, 4, [](auto& x, auto&) { x[31] = INFINITY; }).nonfinite_inputs, 3u);  // the last row
    m = batch(4, 5, clean);  // rows 4..7 still hold the infinity above
    EXPECT_EQ(m.nonfinite_inputs, 3u);
    EXPECT_FALSE(m.skipped);
    m = batch(8, 6, [](auto& x, auto&) { x[0] = 70000.0f; });
    EXPECT_EQ(m.nonfinite_inputs, p == Precision::Mixed ? 4u : 3u);
    EXPECT_EQ(m.steps, 6u);
  }
}

// Loss gradients of about 1e-8 flush to zero in fp16 (below half its smallest subnormal, so
// denormal support does not matter); scaled by 65536 they are ordinary fp16 numbers. Only the
// scaled model learns; the unscaled one's weights never move.
TEST_F(LossScaling, ScalingRescuesGradientsThatUnderflowFp16) {
  const uint32_t rows = 256, cols = 512;
  const auto make = [&] {
    graph::Graph g;
    const auto x = g.input("x", {cols});
    const auto t = g.input("t", {cols});
    g.mse(g.mul(x, g.parameter("w", {cols}, graph::Init{graph::InitKind::Ones})), t);
    return g;
  };
  std::vector<float> xs, ts;
  for (double v : uniform(size_t(rows) * cols, 0.5e-2, 1e-2, 31)) {
    xs.push_back(float(v));
    ts.push_back(float(1.1 * v));
  }
  train::Batch batch{rows, {{xs}, {ts}}};
  std::vector<float> final_loss;
  for (auto mode : {kernels::ScaleMode::Dynamic, kernels::ScaleMode::Off}) {
    auto info = small_info(Precision::Mixed, rows);
    info.loss_scale.mode = mode;
    train::Trainer tr(context(), make(), info);
    const float before = tr.evaluate(batch).loss;
    for (int i = 0; i < 30; ++i) tr.step(batch);
    final_loss.push_back(tr.evaluate(batch).loss / before);
    if (mode == kernels::ScaleMode::Off) {
      for (float w : tr.parameter("w")) ASSERT_EQ(w, 1.0f) << "an unscaled fp16 gradient reached the weights";
    }
  }
  EXPECT_LT(final_loss[0], 0.25f) << "dynamic scaling should rescue the gradients";
  EXPECT_FLOAT_EQ(final_loss[1], 1.0f) << "without scaling nothing is learned";
}

using TrainerTest = VkTest;

// Same seed, same data: bitwise the same weights (no float atomics, fixed reduction orders).
TEST_F(TrainerTest, SameSeedSameBits) {
  const Data d = make_data(16, kSizes[0], kSizes.back(), 41);
  std::vector<std::vector<std::vector<float>>> runs;
  for (int r = 0; r < 2; ++r) {
    train::Trainer t(context(), small_graph(), small_info(Precision::Mixed, 16));
    for (int i = 0; i < 5; ++i) t.step(d.batch(16, true));
    runs.push_back(all_parameters(t));
  }
  EXPECT_TRUE(bitwise_equal(runs[0], runs[1]));
}

// Mixed precision learns what fp32 learns: both cut the loss of a fixed batch by more than
// half, and their final losses agree within 10 % of the fp32 loss (fp16 rounding of
// activations perturbs each Adam step by ~1e-3 relative; the trajectories stay close).
TEST_F(TrainerTest, MixedTracksFp32) {
  const std::vector<uint32_t> sizes = {12, 32, 32, 5};
  const Data d = make_data(32, sizes[0], sizes.back(), 42);
  std::vector<float> first, last;
  for (auto p : {Precision::Fp32, Precision::Mixed}) {
    train::Trainer t(context(), mlp_graph(sizes, reference::MlpActivation::Gelu, reference::MlpLoss::CrossEntropy),
                     small_info(p, 32));
    first.push_back(t.evaluate(d.batch(32, true)).loss);
    for (int i = 0; i < 40; ++i) t.step(d.batch(32, true));
    last.push_back(t.evaluate(d.batch(32, true)).loss);
  }
  EXPECT_NEAR(first[1], first[0], 1e-2 * first[0]);
  EXPECT_LT(last[0], 0.5f * first[0]);
  EXPECT_LT(last[1], 0.5f * first[1]);
  EXPECT_NEAR(last[1], last[0], 0.1f * last[0]);
}

// A partial batch averages over its own rows: its loss and gradients equal the reference's
// over those rows, whatever the unused rows hold.
TEST_F(TrainerTest, PartialBatchIsMasked) {
  const MlpCase c{"relu_ce", reference::MlpActivation::Relu, reference::MlpLoss::CrossEntropy};
  auto info = small_info(Precision::Fp32, 16);
  info.optimizer = train::OptimizerConfig::sgd(0.0f);
  train::Trainer t(context(), small_graph(), info);
  const Data full = make_data(16, kSizes[0], kSizes.back(), 43);
  t.step(full.batch(16, true));  // fills every row of the device's input buffers
  const Data d = make_data(16, kSizes[0], kSizes.back(), 44);
  t.step(d.batch(5, true));
  const auto m = t.metrics(Wait::Yes);
  const auto ref_model = reference_of(t, kSizes, c, false);
  const std::vector<double> x(d.x.begin(), d.x.begin() + 5 * kSizes[0]);
  const auto ref = reference::mlp_gradients(ref_model, x, d.labels, {}, 5);
  EXPECT_NEAR(m.loss, ref.loss, 1e-5 * std::max(1.0, ref.loss));
  std::vector<double> got;
  for (float f : t.gradient("layers.0.weight")) got.push_back(f);
  EXPECT_TRUE(all_close(got, ref.weights[0], 1e-5 * max_abs(ref.weights[0]) + 1e-7, 0.0));
  // Evaluation at a smaller batch sees the same rows.
  EXPECT_NEAR(t.evaluate(d.batch(5, true)).loss, ref.loss, 1e-5 * std::max(1.0, ref.loss));
}

// After the first step: one submit per step, no blocking reads, no new pipelines.
TEST_F(TrainerTest, StepsNeitherWaitNorCreatePipelines) {
  const Data d = make_data(8, kSizes[0], kSizes.back(), 45);
  train::Trainer t(context(), small_graph(), small_info(Precision::Mixed, 8));
  t.step(d.batch(8, true));
  (void)t.metrics(Wait::Yes);
  const auto before = t.counters();
  for (int i = 0; i < 6; ++i) t.step(d.batch(8, true));
  const auto after = t.counters();
  EXPECT_EQ(after.submits - before.submits, 6u);
  EXPECT_EQ(after.blocking_reads, before.blocking_reads);
  EXPECT_EQ(after.pipeline_creations, before.pipeline_creations);
  EXPECT_EQ(t.metrics(Wait::Yes).steps, 7u);
}

// Two micro-batches of 4 rows give the gradient of one batch of 8 (the average of the two
// micro-batch means), checked once and applied once.
TEST_F(TrainerTest, AccumulationEqualsTheLargeBatch) {
  const Data d = make_data(8, kSizes[0], kSizes.back(), 47);
  auto info = small_info(Precision::Fp32, 8);
  info.optimizer = train::OptimizerConfig::sgd(0.0f);
  train::Trainer big(context(), small_graph(), info);
  big.step(d.batch(8, true));
  info.batch_size = 4;
  info.accumulation_steps = 2;
  train::Trainer acc(context(), small_graph(), info);
  train::Batch first = d.batch(4, true), second;
  second.rows = 4;
  second.feeds.push_back({std::span(d.x).subspan(4 * kSizes[0], 4 * kSizes[0])});
  second.feeds.push_back({{}, std::span(d.labels).subspan(4, 4)});
  acc.step(first);
  acc.step(second);
  EXPECT_EQ(acc.metrics(Wait::Yes).optimizer_steps, 1u);
  EXPECT_EQ(acc.metrics(Wait::Yes).steps, 1u);
  for (const auto& name : big.parameter_names()) {
    std::vector<double> want, got;
    for (float f : big.gradient(name)) want.push_back(f);
    for (float f : acc.gradient(name)) got.push_back(f);
    EXPECT_TRUE(all_close(got, want, 1e-6 * max_abs(want) + 1e-9, 1e-5)) << name;
  }
}

// Each completed step shows up once in the history, in order.
TEST_F(TrainerTest, HistoryHasEveryStepOnce) {
  const Data d = make_data(8, kSizes[0], kSizes.back(), 48);
  auto info = small_info(Precision::Mixed, 8);
  info.ring_slots = 3;
  train::Trainer t(context(), small_graph(), info);
  std::vector<uint64_t> seen;
  for (int i = 0; i < 10; ++i) {
    t.step(d.batch(8, true));
    for (const auto& m : t.take_history()) seen.push_back(m.steps);
  }
  (void)t.metrics(Wait::Yes);
  for (const auto& m : t.take_history()) seen.push_back(m.steps);
  EXPECT_EQ(seen, (std::vector<uint64_t>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}));
}

// 2N steps straight, or N steps, save, load into a fresh trainer, N more: the same bits.
TEST_F(TrainerTest, SaveAndLoadResumeBitwise) {
  const Data d = make_data(8, kSizes[0], kSizes.back(), 49);
  auto info = small_info(Precision::Mixed, 8);
  info.schedule = {train::ScheduleKind::Cosine, 2, 8, 1e-4f};
  info.loss_scale.growth_interval = 2;
  const auto batch = [&](int i) {
    auto b = d.batch(8, true);
    b.inject_nonfinite_gradient = i == 1;  // a skipped step in the first half
    return b;
  };
  train::Trainer straight(context(), small_graph(), info);
  for (int i = 0; i < 8; ++i) straight.step(batch(i));
  train::TrainingState saved;
  {
    train::Trainer first(context(), small_graph(), info);
    for (int i = 0; i < 4; ++i) first.step(batch(i));
    saved = first.save_state();
  }
  EXPECT_EQ(saved.device.iteration, 4u);
  EXPECT_EQ(saved.device.optimizer_step, 3u);
  EXPECT_TRUE(saved.tensors.count("optim.exp_avg_sq.layers.1.bias"));
  info.seed = 1234;  // different initial weights: load_state must replace them all
  train::Trainer resumed(context(), small_graph(), info);
  resumed.load_state(saved);
  for (int i = 4; i < 8; ++i) resumed.step(batch(i));
  EXPECT_TRUE(bitwise_equal(all_parameters(resumed), all_parameters(straight)));
  const auto a = straight.metrics(Wait::Yes), b = resumed.metrics(Wait::Yes);
  EXPECT_EQ(a.steps, b.steps);
  EXPECT_EQ(a.loss_scale, b.loss_scale);
  EXPECT_EQ(a.skipped_steps, b.skipped_steps);
  saved.tensors.erase("optim.exp_avg.layers.0.weight");
  EXPECT_THROW(resumed.load_state(saved), Error);
}

// predict() takes the inputs alone and any number of rows: 11 rows through a trainer compiled
// for 4 give, row for row, what 4-row evaluations with the labels give. Zero rows, a wrong feed
// count and a wrong feed size are errors that say so.
TEST_F(TrainerTest, PredictTakesInputsAloneAndAnyNumberOfRows) {
  const Data d = make_data(11, kSizes[0], kSizes.back(), 51);
  train::Trainer t(context(), small_graph(), small_info(Precision::Fp32, 4));
  const auto got = t.predict({11, {{d.x}}});
  const size_t classes = kSizes.back();
  ASSERT_EQ(got.size(), 11 * classes);
  for (uint32_t r0 = 0; r0 < 11; r0 += 4) {
    const uint32_t n = std::min(4u, 11 - r0);
    const train::Batch chunk{n, {{std::span(d.x).subspan(r0 * kSizes[0], n * kSizes[0])},
                                 {{}, std::span(d.labels).subspan(r0, n)}}};
    const auto want = t.evaluate(chunk).predictions;
    for (size_t i = 0; i < want.size(); ++i) EXPECT_EQ(got[r0 * classes + i], want[i]) << "row " << r0 + i / classes;
  }
  const auto message = [&](const train::Batch& b) {
    try {
      (void)t.predict(b);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message({0, {{std::span(d.x).first(0)}}}).find("0 rows"), std::string::npos);
  EXPECT_NE(message({3, {}}).find("inputs are"), std::string::npos);
  EXPECT_NE(message({3, {{std::span(d.x).first(5)}}}).find("feed 'x'"), std::string::npos);
}

// Loading is strict by default: another optimizer's state, a missing tensor and a mis-shaped one
// are errors naming the tensor, and nothing changes; not strict, the first two are reported
// (skipped, or left as they were), the third is still an error. metrics() reports the restored
// step counts.
TEST_F(TrainerTest, LoadStateIsStrictAndSaysWhatDoesNotMatch) {
  const Data d = make_data(8, kSizes[0], kSizes.back(), 50);
  auto adam_info = small_info(Precision::Fp32, 8);
  train::TrainingState adam_state;
  {
    train::Trainer adam(context(), small_graph(), adam_info);
    for (int i = 0; i < 3; ++i) adam.step(d.batch(8, true));
    adam_state = adam.save_state();
  }
  auto sgd_info = adam_info;
  sgd_info.optimizer = train::OptimizerConfig::sgd(0.1f);
  train::Trainer sgd(context(), small_graph(), sgd_info);
  const auto before = sgd.parameter("layers.0.weight");
  const auto expect_error_naming = [&](const train::TrainingState& st, const train::LoadOptions& o,
                                       const std::string& name) {
    try {
      sgd.load_state(st, o);
      ADD_FAILURE() << "expected vkgrad::Error naming " << name;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(name), std::string::npos) << e.what();
    }
    EXPECT_EQ(sgd.parameter("layers.0.weight"), before) << "a failed load changes nothing";
  };
  // The optimizer the state names first; allowed to change, its moments are still unexpected.
  expect_error_naming(adam_state, {}, "saved with adam; this trainer uses sgd");
  expect_error_naming(adam_state, {.allow_optimizer_change = true}, "optim.exp_avg");
  auto fp32_state = adam_state;
  fp32_state.optimizer = "sgd";
  train::Trainer mixed_sgd(context(), small_graph(), [&] {
    auto i = sgd_info;
    i.precision = Precision::Mixed;
    return i;
  }());
  try {
    mixed_sgd.load_state(fp32_state, {.strict = false});
    ADD_FAILURE() << "an fp32 state loaded into a mixed trainer";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("saved by a fp32 trainer; this one is mixed"), std::string::npos) << e.what();
  }
  EXPECT_NO_THROW(mixed_sgd.load_state(fp32_state, {.strict = false, .allow_precision_change = true}));

  auto lacking = adam_state;
  lacking.tensors.erase("layers.1.bias");
  auto misshaped = adam_state;
  misshaped.tensors.at("layers.0.weight").shape = {1, misshaped.tensors.at("layers.0.weight").values.size()};
  expect_error_naming(misshaped, {.strict = false, .allow_optimizer_change = true}, "layers.0.weight");

  const auto bias_before = sgd.parameter("layers.1.bias");
  const auto report = sgd.load_state(lacking, {.strict = false, .allow_optimizer_change = true});
  EXPECT_EQ(report.missing, std::vector<std::string>{"layers.1.bias"});
  EXPECT_FALSE(report.unexpected.empty());
  for (const auto& name : report.unexpected) EXPECT_EQ(name.rfind("optim.exp_avg", 0), 0u) << name;
  EXPECT_EQ(sgd.parameter("layers.1.bias"), bias_before) << "what the state lacks keeps its value";
  EXPECT_EQ(sgd.parameter("layers.0.weight"), lacking.tensors.at("layers.0.weight").values);
  EXPECT_EQ(sgd.metrics().steps, 3u) << "the restored iteration";
}

// With profiling on, each of the four passes reports its dispatches' GPU time; off, nothing.
TEST_F(TrainerTest, ProfileTimesEveryPass) {
  if (context().caps().timestamp_valid_bits == 0) GTEST_SKIP() << "needs timestamps on the compute queue";
  const Data d = make_data(8, kSizes[0], kSizes.back(), 51);
  auto info = small_info(Precision::Mixed, 8);
  train::Trainer plain(context(), small_graph(), info);
  plain.step(d.batch(8, true));
  EXPECT_TRUE(plain.profile().empty());
  info.profile = true;
  train::Trainer t(context(), small_graph(), info);
  t.step(d.batch(8, true));
  const auto passes = t.profile();
  std::vector<std::string> names;
  for (const auto& p : passes) {
    names.push_back(p.pass);
    ASSERT_FALSE(p.dispatches.empty()) << p.pass;
    double sum = 0;
    for (const auto& [label, ms] : p.dispatches) {
      EXPECT_GE(ms, 0.0) << label;
      sum += ms;
    }
    EXPECT_DOUBLE_EQ(p.ms, sum) << p.pass;
  }
  EXPECT_EQ(names, (std::vector<std::string>{"forward", "backward", "loss_scale", "update"}));
  const auto& forward = passes.front().dispatches;
  EXPECT_TRUE(std::ranges::any_of(forward, [](const auto& dispatch) { return dispatch.first.rfind("gemm.", 0) == 0; }));
}

// Clipping by global norm: the device's norm is that of the unscaled gradients, and with
// SGD(lr = 1) the whole update has exactly the clipped norm (torch.nn.utils.clip_grad_norm_).
TEST_F(TrainerTest, GradientClippingBoundsTheUpdate) {
  const Data d = make_data(8, kSizes[0], kSizes.back(), 50);
  auto info = small_info(Precision::Fp32, 8);
  info.optimizer = train::OptimizerConfig::sgd(1.0f);
  info.optimizer.max_grad_norm = 1e-3f;
  train::Trainer t(context(), small_graph(), info);
  const auto before = all_parameters(t);
  t.step(d.batch(8, true));
  const auto m = t.metrics(Wait::Yes);
  const auto after = all_parameters(t);
  const auto names = t.parameter_names();
  double grad_sq = 0, step_sq = 0;
  for (size_t i = 0; i < names.size(); ++i) {
    for (float g : t.gradient(names[i])) grad_sq += double(g) * g;
    for (size_t j = 0; j < before[i].size(); ++j) step_sq += std::pow(double(before[i][j]) - after[i][j], 2);
  }
  EXPECT_NEAR(m.grad_norm, std::sqrt(grad_sq), 1e-5 * std::sqrt(grad_sq));
  ASSERT_GT(std::sqrt(grad_sq), 1e-2) << "the test needs a gradient larger than the clip norm";
  // The weights themselves are ~0.3, so each difference carries ~2^-24·0.3 of rounding.
  EXPECT_NEAR(std::sqrt(step_sq), 1e-3, 2e-5);
}

// Parameter groups: one step of SGD from the same start moves each group by its own rate —
// exactly the ungrouped step where the rate is the default, 3× it for a group at 3× the rate
// (SGD's update is lr·g: fp32 rounding of one product, 2^-23 relative), not at all at rate 0.
TEST_F(TrainerTest, ParameterGroupsHaveTheirOwnRates) {
  const Data d = make_data(8, kSizes[0], kSizes.back(), 61);
  auto info = small_info(Precision::Fp32, 8);
  info.optimizer = train::OptimizerConfig::sgd(0.1f);
  train::Trainer plain(context(), small_graph(), info);
  info.optimizer.groups = {{.prefix = "layers.1.", .lr = 0.3f}, {.prefix = "layers.0.bias", .lr = 0.0f}};
  train::Trainer grouped(context(), small_graph(), info);
  std::map<std::string, std::vector<float>> start;
  for (const auto& name : plain.parameter_names()) start[name] = plain.parameter(name);
  plain.step(d.batch(8, true));
  grouped.step(d.batch(8, true));
  for (const auto& name : plain.parameter_names()) {
    const auto a = plain.parameter(name), b = grouped.parameter(name);
    for (size_t i = 0; i < a.size(); ++i) {
      const double base = double(a[i]) - start[name][i], moved = double(b[i]) - start[name][i];
      if (name == "layers.0.bias") EXPECT_EQ(moved, 0.0) << name << "[" << i << "]";
      else if (name.rfind("layers.1.", 0) == 0)
        EXPECT_NEAR(moved, 3 * base, 1e-6 * std::fabs(start[name][i]) + 1e-6 * std::fabs(base)) << name << "[" << i << "]";
      else EXPECT_EQ(b[i], a[i]) << name << "[" << i << "]";
    }
  }
  info.optimizer.groups = {{.prefix = "decoder.", .lr = 0.1f}};
  EXPECT_THROW(train::Trainer(context(), small_graph(), info), Error);  // matches no parameter
  info.optimizer.groups = {{.prefix = "layers.", .eps = 0.0f}};
  EXPECT_THROW(train::Trainer(context(), small_graph(), info), Error);
}

// Weight-decay exclusions by what a parameter is for: one SGD step with decay 0.5 next to the
// same step without decay. Only the head's weight may differ, by exactly lr·wd·p (fp32 rounding
// of a few products, far below 1e-6 for |p| < 1); the head's bias, the layer-norm parameters and
// the embedding table are excluded and must be bitwise equal.
TEST_F(TrainerTest, WeightDecaySkipsExcludedKinds) {
  graph::Graph g;
  const auto idx = g.labels("idx", {2});
  const auto h = g.layer_norm(g.embedding(idx, 5, 4, "wte"), "ln");
  g.cross_entropy(g.linear(h, 5, "head"), g.labels("y", {2}));
  train::TrainerCreateInfo info;
  info.batch_size = 2;
  info.precision = Precision::Fp32;
  info.optimizer = train::OptimizerConfig::sgd(0.1f, 0.0f, 0.5f);
  info.optimizer.no_decay = {.biases = true, .norms = true, .embeddings = true};
  train::Trainer t(context(), g, info);
  std::map<std::string, std::vector<float>> start;
  for (const auto& name : t.parameter_names()) start[name] = t.parameter(name);
  info.optimizer.no_decay = {};
  info.optimizer.weight_decay = 0.0f;
  train::Trainer plain(context(), g, info);
  const std::vector<int32_t> ids = {1, 3, 0, 4}, ys = {2, 2, 1, 0};
  const train::Batch batch{2, {{{}, ids}, {{}, ys}}};
  t.step(batch);
  plain.step(batch);
  for (const auto& name : t.parameter_names()) {
    const auto a = t.parameter(name), b = plain.parameter(name);
    for (size_t i = 0; i < a.size(); ++i) {
      if (name == "head.weight")  // SGD with decay: p − lr·(g + wd·p) = (p − lr·g) − lr·wd·p; rounding 2^-23
        EXPECT_NEAR(a[i], b[i] - 0.05 * start[name][i], 1e-6) << name << "[" << i << "]";
      else
        EXPECT_EQ(a[i], b[i]) << name << "[" << i << "] is excluded from decay";
    }
  }
}

// Dropout: evaluation copies (the same loss as the graph without it, bit for bit); training drops
// (a different loss); and the masks come from (seed, node, step) alone, so two trainers with the
// same seed take bitwise the same steps.
TEST_F(TrainerTest, DropoutTrainsReproduciblyAndIsOffInEvaluation) {
  const Data d = make_data(8, kSizes[0], kSizes.back(), 71);
  const auto build = [](float p) {
    graph::Graph g;
    const auto x = g.input("x", {kSizes[0]});
    const auto h = g.dropout(g.linear(x, kSizes[1], "layers.0", graph::Activation::Relu), p);
    g.cross_entropy(g.linear(h, kSizes.back(), "layers.1"), g.labels("y"));
    return g;
  };
  const auto info = small_info(Precision::Mixed, 8);
  train::Trainer a(context(), build(0.5f), info), b(context(), build(0.5f), info), plain(context(), build(0.0f), info);
  const auto batch = d.batch(8, true);
  EXPECT_EQ(a.evaluate(batch).loss, plain.evaluate(batch).loss) << "evaluation must not drop";
  for (int s = 0; s < 3; ++s) {
    a.step(batch);
    b.step(batch);
    plain.step(batch);
  }
  const auto ma = a.metrics(train::Wait::Yes), mb = b.metrics(train::Wait::Yes), mp = plain.metrics(train::Wait::Yes);
  EXPECT_EQ(ma.loss, mb.loss);
  EXPECT_NE(ma.loss, mp.loss) << "training with p = 0.5 dropped nothing";
  for (const auto& name : a.parameter_names()) EXPECT_EQ(a.parameter(name), b.parameter(name)) << name;
}

// The learning rate the device computes for each iteration follows the schedule.
TEST_F(TrainerTest, ScheduleRunsOnTheDevice) {
  const Data d = make_data(8, kSizes[0], kSizes.back(), 51);
  auto info = small_info(Precision::Mixed, 8);
  info.schedule = {train::ScheduleKind::Cosine, 3, 10, 1e-4f};
  train::Trainer t(context(), small_graph(), info);
  const auto lr = [&](uint32_t i) { return train::learning_rate(info.schedule, info.optimizer.lr, i); };
  EXPECT_FLOAT_EQ(lr(0), info.optimizer.lr / 3);
  EXPECT_FLOAT_EQ(lr(3), info.optimizer.lr);
  EXPECT_FLOAT_EQ(lr(10), 1e-4f);
  EXPECT_FLOAT_EQ(lr(50), 1e-4f);
  for (uint32_t i = 0; i < 12; ++i) {
    EXPECT_NEAR(t.save_state().device.lr, lr(i), 1e-7) << "iteration " << i;
    t.step(d.batch(8, true));
  }
}

TEST_F(TrainerTest, MemoryBudgetErrorIsClear) {
  auto info = small_info(Precision::Mixed, 8);
  info.memory_budget = 4096;
  try {
    train::Trainer t(context(), small_graph(), info);
    FAIL() << "expected vkgrad::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("batch"), std::string::npos) << e.what();
  }
}

TEST_F(TrainerTest, BadBatchesAreRejected) {
  train::Trainer t(context(), small_graph(), small_info(Precision::Mixed, 8));
  const Data d = make_data(8, kSizes[0], kSizes.back(), 46);
  auto b = d.batch(8, true);
  b.rows = 9;
  EXPECT_THROW(t.step(b), Error);
  b = d.batch(8, true);
  b.feeds.pop_back();
  EXPECT_THROW(t.step(b), Error);
  EXPECT_THROW(t.parameter("layers.7.weight"), Error);
}

// A class label outside [0, classes) or a token id past the embedding table is refused at the
// step with its row and value, before anything is submitted (it would otherwise be a NaN loss,
// or a read outside the table).
TEST_F(TrainerTest, LabelsOutsideTheirRangeAreRefusedWithRowAndValue) {
  const auto message = [](auto&& f) -> std::string {
    try {
      f();
    } catch (const Error& e) {
      return e.what();
    }
    return "no error";
  };
  train::Trainer t(context(), small_graph(), small_info(Precision::Mixed, 8));
  Data d = make_data(8, kSizes[0], kSizes.back(), 47);
  d.labels[2] = 4;  // 4 classes: 0..3
  EXPECT_NE(message([&] { t.step(d.batch(8, true)); }).find("holds 4 in row 2, outside [0, 4): the 4 classes"),
            std::string::npos)
      << message([&] { t.step(d.batch(8, true)); });
  d.labels[2] = -1;
  EXPECT_NE(message([&] { (void)t.evaluate(d.batch(8, true)); }).find("holds -1 in row 2"), std::string::npos);
  d.labels[2] = 3;
  EXPECT_NO_THROW(t.step(d.batch(8, true)));
  EXPECT_EQ(t.metrics(train::Wait::Yes).steps, 1u) << "the refused steps were not submitted";

  // Token ids: the embedding table's rows bound them (here tighter than the head's classes).
  graph::Graph g;
  const auto ids = g.labels("idx", {3});
  g.cross_entropy(g.linear(g.embedding(ids, 5, 4, "wte"), 7, "head"), g.labels("targets", {3}));
  train::Trainer lm(context(), g, {.batch_size = 2});
  const std::vector<int32_t> idx = {0, 1, 2, 3, 4, 5}, targets = {0, 1, 2, 3, 4, 5};
  EXPECT_NE(message([&] { lm.step({2, {{{}, idx}, {{}, targets}}}); })
                .find("feed 'idx' holds 5 in row 1, position 2, outside [0, 5): the 5 rows of wte.weight"),
            std::string::npos)
      << message([&] { lm.step({2, {{{}, idx}, {{}, targets}}}); });
}

}  // namespace
}  // namespace vkgrad::test
