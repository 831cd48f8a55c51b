// Data-parallel training on every rank of the mpiexec job: each rank steps on its slice of a
// global batch, and the run must match one process stepping on the whole batch — its own
// Trainer on the same device, built on every rank as the reference. Overflows injected on the
// last rank only must be skipped by every rank exactly as the single process skips them
// (GradScaler's trajectory), and the ranks' masters must stay bitwise identical (a hash compared
// every 4 steps, the values at the end).
#include "numerics.hpp"
#include "small_models.hpp"
#include "vk_fixture.hpp"
#include "vkgrad/dist/mpi_communicator.hpp"
#include "vkgrad/graph/sequential.hpp"
#include "vkgrad/io/checkpoint.hpp"
#include "vkgrad/train/trainer.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <random>
#include <set>

namespace vkgrad::test {
namespace {

constexpr uint32_t kGlobalRows = 8, kSteps = 24;

train::TrainerCreateInfo create_info(uint32_t rows, dist::Communicator* comm) {
  train::TrainerCreateInfo info{.batch_size = rows, .optimizer = train::OptimizerConfig::adamw(1e-2f), .seed = 7};
  info.loss_scale.growth_interval = 4;  // growth as well as back-off within the run
  info.communicator = comm;
  return info;
}

// The global batch of a step: x [8, 4] and y [8, 2] from the step's own seed.
struct GlobalBatch {
  std::vector<float> x, y;
};
GlobalBatch global_batch(uint32_t step) {
  GlobalBatch b;
  for (double v : uniform(kGlobalRows * 4, -1, 1, 100 + step)) b.x.push_back(float(v));
  for (double v : uniform(kGlobalRows * 2, -1, 1, 900 + step)) b.y.push_back(float(v));
  return b;
}

// Rows [first, first + rows) of it.
train::Batch slice(const GlobalBatch& b, uint32_t first, uint32_t rows) {
  return {rows,
          {{std::span(b.x).subspan(first * 4, rows * 4), {}}, {std::span(b.y).subspan(first * 2, rows * 2), {}}}};
}

std::vector<float> masters(train::Trainer& t) {
  std::vector<float> out;
  for (const auto& [name, tensor] : t.save_state().tensors)
    if (name.rfind("optim.", 0) != 0) out.insert(out.end(), tensor.values.begin(), tensor.values.end());
  return out;
}

// FNV-1a over the values' bytes.
uint64_t fnv1a(const std::vector<float>& values) {
  uint64_t h = 14695981039346656037ull;
  for (std::byte b : std::as_bytes(std::span(values))) h = (h ^ uint64_t(b)) * 1099511628211ull;
  return h;
}

class DataParallel : public VkTest {};

TEST_F(DataParallel, MatchesOneProcessWithTheWholeBatch) {
  dist::MpiCommunicator comm(MPI_COMM_WORLD, {.timeout = std::chrono::seconds(60)});
  if (kGlobalRows % comm.size() != 0) GTEST_SKIP() << "needs a rank count that divides " << kGlobalRows;
  const uint32_t rows = kGlobalRows / comm.size(), first = comm.rank() * rows;
  const std::set<uint32_t> overflows = {3, 4, 13};  // injected on the last rank only

  train::Trainer single(context(), small_mse_mlp(), create_info(kGlobalRows, nullptr));
  train::Trainer ranked(context(), small_mse_mlp(), create_info(rows, &comm));
  ASSERT_EQ(masters(single), masters(ranked)) << "every rank starts from rank 0's parameters (the same seed here)";
  for (uint32_t s = 0; s < kSteps; ++s) {
    const auto b = global_batch(s);
    auto whole = slice(b, 0, kGlobalRows);
    whole.inject_nonfinite_gradient = overflows.count(s) != 0;
    single.step(whole);
    auto mine = slice(b, first, rows);
    mine.inject_nonfinite_gradient = overflows.count(s) != 0 && comm.rank() == comm.size() - 1;
    ranked.step(mine);
    // Every 4 steps, a hash of the masters and buffers: rank 0's on every rank.
    if (s % 4 == 3) {
      uint64_t hash = fnv1a(masters(ranked)), rank0 = hash;
      comm.broadcast(std::as_writable_bytes(std::span(&rank0, 1)), 0);
      EXPECT_EQ(hash, rank0) << "rank " << comm.rank() << " after step " << s;
    }
  }
  (void)single.metrics(train::Wait::Yes);
  (void)ranked.metrics(train::Wait::Yes);
  const auto expected = single.take_history(), got = ranked.take_history();
  ASSERT_EQ(got.size(), expected.size());
  // The per-rank sums add the same FP32 terms in another order (rounding ~1e-7 relative); a
  // master that lands beside an FP16 rounding boundary may then round its working copy one ulp
  // (2^-11 relative) the other way, which moves this small MLP's loss by well under 1e-3.
  double worst = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    SCOPED_TRACE("step " + std::to_string(i));
    if (std::isfinite(expected[i].loss)) worst = std::max(worst, std::abs(double(got[i].loss) - expected[i].loss) / expected[i].loss);
    EXPECT_EQ(got[i].skipped, expected[i].skipped);
    EXPECT_EQ(got[i].loss_scale, expected[i].loss_scale);
    EXPECT_EQ(got[i].skipped_steps, expected[i].skipped_steps);
    if (std::isfinite(expected[i].loss)) {
      EXPECT_NEAR(got[i].loss, expected[i].loss, 1e-3 * std::abs(expected[i].loss) + 1e-6);
    }
  }
  std::printf("data parallel, %u ranks: %u steps, %llu skipped; largest loss difference from one process %.2e relative\n",
              comm.size(), kSteps, (unsigned long long)got.back().skipped_steps, worst);
  EXPECT_EQ(got.back().skipped_steps, overflows.size());
  const auto counters = ranked.counters();
  EXPECT_EQ(counters.gradient_exchanges, kSteps);
  EXPECT_GT(counters.exchange_wait_seconds, 0.0);

  // The masters: close to the single process's, and bitwise the same on every rank.
  const auto mine = masters(ranked), reference = masters(single);
  ASSERT_EQ(mine.size(), reference.size());
  for (size_t i = 0; i < mine.size(); ++i) EXPECT_NEAR(mine[i], reference[i], 1e-3) << "master " << i;
  auto rank0 = mine;
  comm.broadcast(std::as_writable_bytes(std::span(rank0)), 0);
  EXPECT_EQ(std::memcmp(rank0.data(), mine.data(), mine.size() * sizeof(float)), 0) << "rank " << comm.rank();
}

// Checkpoints hold no trace of the world size: rank 0 saves a 2-rank run's state, one process
// resumes it, and the one process's checkpoint resumes on 2 ranks; each continuation must
// follow the uninterrupted run (the same data, global batches of 8).
TEST_F(DataParallel, CheckpointsResumeOnAnotherWorldSize) {
  dist::MpiCommunicator comm(MPI_COMM_WORLD, {.timeout = std::chrono::seconds(60)});
  if (kGlobalRows % comm.size() != 0) GTEST_SKIP() << "needs a rank count that divides " << kGlobalRows;
  const uint32_t rows = kGlobalRows / comm.size(), first = comm.rank() * rows;
  // One folder for the job, named by rank 0.
  uint64_t tag = comm.rank() == 0 ? std::random_device{}() : 0;
  comm.broadcast(std::as_writable_bytes(std::span(&tag, 1)), 0);
  const auto dir = std::filesystem::temp_directory_path() / ("vkgrad-dp-resume-" + std::to_string(tag));
  const auto losses = [&](train::Trainer& t, uint32_t from, uint32_t to, bool ranked) {
    std::vector<float> out;
    for (uint32_t s = from; s < to; ++s) {
      const auto b = global_batch(s);
      t.step(ranked ? slice(b, first, rows) : slice(b, 0, kGlobalRows));
      out.push_back(t.metrics(train::Wait::Yes).loss);
    }
    return out;
  };
  const auto expect_close = [](const std::vector<float>& got, const std::vector<float>& want, const char* what) {
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-3 * std::abs(want[i]) + 1e-6) << what << ", step " << i;
  };

  train::Trainer ranked(context(), small_mse_mlp(), create_info(rows, &comm));
  const auto ranked_first = losses(ranked, 0, 10, true);
  const auto ranked_state = ranked.save_state();
  if (comm.rank() == 0) {
    std::filesystem::create_directories(dir);
    io::save_checkpoint(dir / "ranked.safetensors", ranked_state);
  }
  train::Trainer alone(context(), small_mse_mlp(), create_info(kGlobalRows, nullptr));
  expect_close(ranked_first, losses(alone, 0, 10, false), "the ranks against one process");
  if (comm.rank() == 0) io::save_checkpoint(dir / "alone.safetensors", alone.save_state());
  MPI_Barrier(MPI_COMM_WORLD);  // the files are written

  const auto ranked_continues = losses(ranked, 10, 16, true);
  const auto alone_continues = losses(alone, 10, 16, false);
  train::Trainer one_from_ranks(context(), small_mse_mlp(), create_info(kGlobalRows, nullptr));
  one_from_ranks.load_state(io::load_checkpoint(dir / "ranked.safetensors"));
  expect_close(losses(one_from_ranks, 10, 16, false), ranked_continues, "one process from the ranks' checkpoint");
  train::Trainer ranks_from_one(context(), small_mse_mlp(), create_info(rows, &comm));
  ranks_from_one.load_state(io::load_checkpoint(dir / "alone.safetensors"));
  expect_close(losses(ranks_from_one, 10, 16, true), alone_continues, "the ranks from one process's checkpoint");
  MPI_Barrier(MPI_COMM_WORLD);  // every rank has read them
  if (comm.rank() == 0) std::filesystem::remove_all(dir);
}

// Gradient accumulation over 2 micro-batches, in buckets of a layer each: only the update's last
// micro-batch sums over the ranks, and the run must follow one process accumulating the same
// global micro-batches (the tolerance of MatchesOneProcessWithTheWholeBatch).
TEST_F(DataParallel, AccumulatedMicroBatchesMatchOneProcess) {
  dist::MpiCommunicator comm(MPI_COMM_WORLD, {.timeout = std::chrono::seconds(60)});
  if (kGlobalRows % comm.size() != 0) GTEST_SKIP() << "needs a rank count that divides " << kGlobalRows;
  const uint32_t rows = kGlobalRows / comm.size(), first = comm.rank() * rows;
  auto alone = create_info(kGlobalRows, nullptr), ranked_info = create_info(rows, &comm);
  alone.accumulation_steps = ranked_info.accumulation_steps = 2;
  ranked_info.gradient_bucket_bytes = 4;
  train::Trainer single(context(), small_mse_mlp(), alone);
  train::Trainer ranked(context(), small_mse_mlp(), ranked_info);
  for (uint32_t s = 0; s < 12; ++s) {
    const auto b = global_batch(s);
    single.step(slice(b, 0, kGlobalRows));
    ranked.step(slice(b, first, rows));
  }
  (void)single.metrics(train::Wait::Yes);
  (void)ranked.metrics(train::Wait::Yes);
  const auto expected = single.take_history(), got = ranked.take_history();
  ASSERT_EQ(got.size(), expected.size());
  EXPECT_EQ(got.size(), 6u) << "one record per update";
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].skipped, expected[i].skipped) << "update " << i;
    EXPECT_NEAR(got[i].loss, expected[i].loss, 1e-3 * std::abs(expected[i].loss) + 1e-6) << "update " << i;
  }
  EXPECT_EQ(ranked.counters().gradient_exchanges, 6u);
  const auto mine = masters(ranked), reference = masters(single);
  ASSERT_EQ(mine.size(), reference.size());
  for (size_t i = 0; i < mine.size(); ++i) EXPECT_NEAR(mine[i], reference[i], 1e-3) << "master " << i;
}

// x [4] → W → ReLU → W again (a shared weight: its gradient is final only after the first
// layer's backward, though the second layer's comes first) → linear "head" 2, MSE against y [2];
// and a parameter no node reads (its gradient stays zero).
graph::Graph shared_weight_mlp() {
  graph::Graph g;
  const auto x = g.input("x", {4});
  const auto y = g.input("y", {2});
  const auto w = g.parameter("w", {4, 4}, {.kind = graph::InitKind::Uniform, .a = -0.5, .b = 0.5});
  const auto b = g.parameter("b", {4}, {});
  const auto h = g.linear(g.linear(x, w, std::nullopt, graph::Activation::Relu), w, b);
  g.mse(g.linear(h, 2, "head"), y);
  g.parameter("unused", {3}, {});
  return g;
}

// Buckets change when each gradient is summed, not what is summed: a bucket per layer (a 4-byte
// cap) must leave the weights one bucket leaves — bitwise on 2 ranks, where each element's sum
// is one addition and so independent of how MPI splits the messages; with more ranks MPI may
// add in another order per message size (rounding ~1e-7 relative).
TEST_F(DataParallel, BucketsLeaveTheWeightsOneBucketLeaves) {
  dist::MpiCommunicator comm(MPI_COMM_WORLD, {.timeout = std::chrono::seconds(60)});
  if (kGlobalRows % comm.size() != 0) GTEST_SKIP() << "needs a rank count that divides " << kGlobalRows;
  const uint32_t rows = kGlobalRows / comm.size(), first = comm.rank() * rows;
  for (const auto& [name, model] : {std::pair("small MLP", small_mse_mlp()), std::pair("shared weight", shared_weight_mlp())}) {
    SCOPED_TRACE(name);
    auto tiny = create_info(rows, &comm);
    tiny.gradient_bucket_bytes = 4;
    train::Trainer one(context(), model, create_info(rows, &comm));
    train::Trainer many(context(), model, tiny);
    for (uint32_t s = 0; s < 8; ++s) {
      const auto global = global_batch(s);
      auto mine = slice(global, first, rows);
      mine.inject_nonfinite_gradient = s == 3 && comm.rank() == comm.size() - 1;
      one.step(mine);
      many.step(mine);
    }
    (void)one.metrics(train::Wait::Yes);
    (void)many.metrics(train::Wait::Yes);
    const auto a = one.take_history(), b = many.take_history();
    ASSERT_EQ(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i) {
      EXPECT_EQ(a[i].skipped, b[i].skipped) << "step " << i;
      EXPECT_EQ(a[i].loss_scale, b[i].loss_scale) << "step " << i;
    }
    EXPECT_EQ(b.back().skipped_steps, 1u);
    const auto want = masters(one), got = masters(many);
    ASSERT_EQ(got.size(), want.size());
    if (comm.size() == 2) {
      EXPECT_EQ(std::memcmp(got.data(), want.data(), got.size() * sizeof(float)), 0);
    }
    for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-6 * std::abs(want[i]) + 1e-9) << "master " << i;

    // One bucket per layer that finishes gradients (the shared weight's with the first layer),
    // the unused parameter in the last.
    const auto counters = many.counters();
    EXPECT_EQ(one.counters().gradient_buckets, 1u);
    EXPECT_EQ(counters.gradient_buckets, name == std::string("small MLP") ? 2u : 3u);
    EXPECT_GT(counters.allreduce_seconds, 0.0);
    EXPECT_GE(counters.allreduce_hidden_seconds, 0.0);
    EXPECT_LE(counters.allreduce_hidden_seconds, counters.allreduce_seconds);
  }
}

// x [1, 4, 4] → conv 2 → batch norm → ReLU → linear 2, MSE against y [2].
graph::Graph batch_norm_cnn() {
  graph::Graph g;
  const auto x = g.input("x", {1, 4, 4});
  const auto y = g.input("y", {2});
  graph::Sequential s(g, x, "net");
  g.mse(s.conv2d(2, 3, {.padding = 1}).batch_norm2d().relu().flatten().linear(2).output(), y);
  return g;
}

std::vector<float> tensor(const train::TrainingState& state, const std::string& suffix) {
  for (const auto& [name, t] : state.tensors)
    if (name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) return t.values;
  ADD_FAILURE() << "no tensor named *" << suffix;
  return {};
}

// Each rank updates batch norm's running statistics from its own rows; every update makes them
// the ranks' mean, bitwise the same on every rank. With the weights held still (learning rate 0:
// batch norm normalizes each rank's rows by their own statistics, as PyTorch DDP without
// SyncBatchNorm does, so trained weights would part from one process's), the running mean is
// one process's with the global batch (equal slices' means average to the batch's mean); the
// running variance only roughly (the ranks' variances leave out the spread between their means).
TEST_F(DataParallel, RunningStatisticsAreTheRanksMean) {
  dist::MpiCommunicator comm(MPI_COMM_WORLD, {.timeout = std::chrono::seconds(60)});
  if (kGlobalRows % comm.size() != 0) GTEST_SKIP() << "needs a rank count that divides " << kGlobalRows;
  const uint32_t rows = kGlobalRows / comm.size(), first = comm.rank() * rows;
  auto still = create_info(kGlobalRows, nullptr), ranked_still = create_info(rows, &comm);
  still.optimizer = ranked_still.optimizer = train::OptimizerConfig::sgd(0.0f);
  train::Trainer single(context(), batch_norm_cnn(), still);
  train::Trainer ranked(context(), batch_norm_cnn(), ranked_still);
  for (uint32_t s = 0; s < 6; ++s) {
    std::vector<float> x, y;
    for (double v : uniform(kGlobalRows * 16, -1, 1, 300 + s)) x.push_back(float(v));
    for (double v : uniform(kGlobalRows * 2, -1, 1, 700 + s)) y.push_back(float(v));
    single.step({kGlobalRows, {{x, {}}, {y, {}}}});
    ranked.step({rows, {{std::span(x).subspan(first * 16, rows * 16), {}}, {std::span(y).subspan(first * 2, rows * 2), {}}}});
  }
  const auto want = single.save_state(), got = ranked.save_state();
  // FP16 activations (2^-11 relative, perhaps rounded apart where 4 and 8 rows tile the GEMM
  // differently) and FP32 sums in another order: 1e-3 absolute on statistics of magnitude ~0.1-1.
  const auto mean = tensor(got, "running_mean"), want_mean = tensor(want, "running_mean");
  ASSERT_EQ(mean.size(), want_mean.size());
  for (size_t i = 0; i < mean.size(); ++i) EXPECT_NEAR(mean[i], want_mean[i], 1e-3) << "running_mean " << i;
  // The ranks' variances fall short of the batch's by the spread of their means: within 25 %.
  const auto var = tensor(got, "running_var"), want_var = tensor(want, "running_var");
  ASSERT_EQ(var.size(), want_var.size());
  for (size_t i = 0; i < var.size(); ++i) EXPECT_NEAR(var[i], want_var[i], 0.25 * want_var[i]) << "running_var " << i;
  auto all = masters(ranked), rank0 = all;
  comm.broadcast(std::as_writable_bytes(std::span(rank0)), 0);
  EXPECT_EQ(std::memcmp(rank0.data(), all.data(), all.size() * sizeof(float)), 0) << "rank " << comm.rank();
}

TEST_F(DataParallel, ParametersStartAsRankZeros) {
  dist::MpiCommunicator comm(MPI_COMM_WORLD, {.timeout = std::chrono::seconds(60)});
  // Every rank a different seed: rank 0's initialization must win everywhere.
  auto info = create_info(4, &comm);
  info.seed = 100 + comm.rank();
  train::Trainer t(context(), small_mse_mlp(), info);
  auto zero_info = create_info(4, nullptr);
  zero_info.seed = 100;
  train::Trainer rank0_alone(context(), small_mse_mlp(), zero_info);
  EXPECT_EQ(masters(t), masters(rank0_alone));
}

}  // namespace
}  // namespace vkgrad::test
