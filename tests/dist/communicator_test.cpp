// dist::MpiCommunicator on every rank of an mpiexec job (ctest runs 2): broadcast from each root,
// sums checked against a double-precision reference computed on every rank, bitwise agreement
// between ranks, non-finite values reaching every rank (how a data-parallel step learns that
// one rank overflowed), several sums in flight, and a collective another rank does not join
// becoming an Error after the timeout instead of a hang.
#include "vkgrad/dist/mpi_communicator.hpp"
#include "vkgrad/error.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

namespace vkgrad::test {
namespace {

using dist::MpiCommunicator;

// Short enough that a test whose ranks disagree fails quickly rather than at ctest's limit.
const dist::MpiOptions kOptions{.timeout = std::chrono::seconds(20)};

// The values rank `r` contributes: uniform in [-1, 1) from a seed of its own.
std::vector<float> contribution(uint32_t r, size_t n) {
  std::mt19937 rng(1234u + r);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<float> v(n);
  for (float& x : v) x = u(rng);
  return v;
}

// Rank 0's copy of `values` on every rank, to compare bitwise with one's own.
std::vector<float> rank0s(dist::Communicator& comm, std::vector<float> values) {
  comm.broadcast(std::as_writable_bytes(std::span(values)), 0);
  return values;
}

TEST(MpiCommunicator, RanksAndSize) {
  MpiCommunicator comm(MPI_COMM_WORLD, kOptions);
  int rank = 0, size = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  EXPECT_EQ(comm.rank(), uint32_t(rank));
  EXPECT_EQ(comm.size(), uint32_t(size));
}

TEST(MpiCommunicator, BroadcastFromEveryRoot) {
  MpiCommunicator comm(MPI_COMM_WORLD, kOptions);
  for (uint32_t root = 0; root < comm.size(); ++root) {
    std::vector<std::byte> data(1001);
    for (size_t i = 0; i < data.size(); ++i) data[i] = std::byte(uint8_t(comm.rank() * 31 + i * 7));
    comm.broadcast(data, root);
    for (size_t i = 0; i < data.size(); ++i) ASSERT_EQ(data[i], std::byte(uint8_t(root * 31 + i * 7))) << "root " << root << " byte " << i;
  }
  std::vector<std::byte> none;
  comm.broadcast(none, 0);  // an empty broadcast is a no-op on every rank
  EXPECT_THROW(comm.broadcast(none, comm.size()), Error);
}

TEST(MpiCommunicator, SumMatchesTheDoubleReference) {
  MpiCommunicator comm(MPI_COMM_WORLD, kOptions);
  constexpr size_t n = 100003;  // not a multiple of anything an implementation chunks by
  auto values = contribution(comm.rank(), n);
  comm.sum(values);
  std::vector<double> reference(n, 0.0);
  for (uint32_t r = 0; r < comm.size(); ++r) {
    const auto c = contribution(r, n);
    for (size_t i = 0; i < n; ++i) reference[i] += double(c[i]);
  }
  // size − 1 float additions of terms within [−1, 1): each rounds by at most half an ulp of a
  // partial sum below size in magnitude, so the error is below size² · 2^−24 (FP32's epsilon/2).
  const double bound = double(comm.size()) * comm.size() * std::ldexp(1.0, -24);
  for (size_t i = 0; i < n; ++i) ASSERT_NEAR(values[i], reference[i], bound) << "element " << i;
  // Every rank holds bitwise the same sums.
  const auto first = rank0s(comm, values);
  EXPECT_EQ(std::memcmp(first.data(), values.data(), n * sizeof(float)), 0);
}

TEST(MpiCommunicator, SumIsExactOnIntegers) {
  MpiCommunicator comm(MPI_COMM_WORLD, kOptions);
  std::vector<float> values(4096);
  for (size_t i = 0; i < values.size(); ++i) values[i] = float((comm.rank() + 1) * (i % 97)) * 0.25f;
  comm.sum(values);
  const double ranks = comm.size() * (comm.size() + 1) / 2.0;  // Σ (r + 1)
  for (size_t i = 0; i < values.size(); ++i) ASSERT_EQ(double(values[i]), ranks * double(i % 97) * 0.25) << i;
}

TEST(MpiCommunicator, NonFiniteReachesEveryRank) {
  MpiCommunicator comm(MPI_COMM_WORLD, kOptions);
  std::vector<float> values(64, 1.0f);
  if (comm.rank() == comm.size() - 1) {
    values[3] = std::numeric_limits<float>::infinity();
    values[9] = std::numeric_limits<float>::quiet_NaN();
  }
  comm.sum(values);
  EXPECT_TRUE(std::isinf(values[3]) && values[3] > 0);
  EXPECT_TRUE(std::isnan(values[9]));
  EXPECT_EQ(values[0], float(comm.size()));
}

TEST(MpiCommunicator, SeveralSumsInFlight) {
  MpiCommunicator comm(MPI_COMM_WORLD, kOptions);
  std::vector<std::vector<float>> buckets;
  for (size_t b = 0; b < 4; ++b) buckets.emplace_back(1000 + 17 * b, float(comm.rank() + b));
  std::vector<std::unique_ptr<dist::Pending>> pending;
  for (auto& bucket : buckets) pending.push_back(comm.start_sum(bucket));
  for (size_t b = pending.size(); b-- > 0;) pending[b]->complete();  // completion in any order
  double ranks = 0;
  for (uint32_t r = 0; r < comm.size(); ++r) ranks += r;
  for (size_t b = 0; b < buckets.size(); ++b)
    for (float v : buckets[b]) ASSERT_EQ(double(v), ranks + double(b) * comm.size()) << "bucket " << b;
}

TEST(MpiCommunicator, AbsentRankIsAnErrorAfterTheTimeout) {
  MpiCommunicator comm(MPI_COMM_WORLD, {.timeout = std::chrono::milliseconds(500)});
  if (comm.size() < 2) GTEST_SKIP() << "needs two ranks (run under mpiexec -n 2)";
  std::vector<float> values(16, 1.0f);
  if (comm.rank() == 0) {
    const auto t0 = std::chrono::steady_clock::now();
    try {
      comm.sum(values);
      ADD_FAILURE() << "the sum completed without the other ranks";
    } catch (const Error& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find("rank 0 of "), std::string::npos) << what;
      EXPECT_NE(what.find("did not complete within 0.5 s"), std::string::npos) << what;
      EXPECT_NE(what.find("a rank died or hung"), std::string::npos) << what;
    }
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(10));
  }
  // The others join late, so that the abandoned collective completes and MPI can finalize.
  MPI_Barrier(MPI_COMM_WORLD);
  if (comm.rank() != 0) comm.sum(values);
  MPI_Barrier(MPI_COMM_WORLD);
}

}  // namespace
}  // namespace vkgrad::test
