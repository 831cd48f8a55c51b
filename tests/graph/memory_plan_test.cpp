// The memory planner on hand-made and random request sets: no device needed.
#include "vkgrad/error.hpp"
#include "vkgrad/graph/memory_plan.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

namespace vkgrad::test {
namespace {

using graph::MemoryCategory;
using graph::MemoryPlan;
using graph::MemoryRequest;

constexpr uint64_t MiB = 1 << 20;

MemoryRequest request(std::string name, uint64_t bytes, uint32_t first, uint32_t last) {
  MemoryRequest r;
  r.name = std::move(name);
  r.bytes = bytes;
  r.first_use = first;
  r.last_use = last;
  return r;
}

bool lifetimes_overlap(const MemoryRequest& a, const MemoryRequest& b) {
  return a.first_use <= b.last_use && b.first_use <= a.last_use;
}

bool memory_overlaps(const MemoryPlan& plan, const std::vector<MemoryRequest>& r, size_t i, size_t j) {
  return plan.offsets[i] < plan.offsets[j] + r[j].bytes && plan.offsets[j] < plan.offsets[i] + r[i].bytes;
}

// Every invariant a plan must satisfy, whatever the requests.
::testing::AssertionResult valid_plan(const MemoryPlan& plan, const std::vector<MemoryRequest>& r) {
  if (plan.offsets.size() != r.size()) return ::testing::AssertionFailure() << "one offset per request";
  uint64_t end = 0;
  for (size_t i = 0; i < r.size(); ++i) {
    if (plan.offsets[i] % r[i].alignment != 0)
      return ::testing::AssertionFailure() << r[i].name << " at " << plan.offsets[i] << " is not aligned to "
                                           << r[i].alignment;
    end = std::max(end, plan.offsets[i] + r[i].bytes);
    for (size_t j = i + 1; j < r.size(); ++j) {
      const bool must_not_share = !r[i].shareable || !r[j].shareable || lifetimes_overlap(r[i], r[j]);
      if (must_not_share && memory_overlaps(plan, r, i, j))
        return ::testing::AssertionFailure() << r[i].name << " [" << plan.offsets[i] << ", +" << r[i].bytes << ") and "
                                             << r[j].name << " [" << plan.offsets[j] << ", +" << r[j].bytes
                                             << ") overlap in memory but may not share";
    }
  }
  if (plan.arena_bytes != end)
    return ::testing::AssertionFailure() << "arena " << plan.arena_bytes << " but requests end at " << end;
  if (plan.arena_bytes > plan.unshared_bytes)
    return ::testing::AssertionFailure() << "arena " << plan.arena_bytes << " above no sharing "
                                         << plan.unshared_bytes;
  return ::testing::AssertionSuccess();
}

std::string error_of(const std::vector<MemoryRequest>& r) {
  try {
    graph::plan_memory(r);
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(MemoryPlan, DisjointLifetimesShareMemory) {
  // A chain a → b → c: a is dead when c is born, so they can share; b overlaps both.
  const std::vector<MemoryRequest> r = {request("a", MiB, 0, 1), request("b", MiB, 1, 2), request("c", MiB, 2, 3)};
  const MemoryPlan plan = graph::plan_memory(r);
  EXPECT_TRUE(valid_plan(plan, r));
  EXPECT_EQ(plan.offsets[0], plan.offsets[2]);
  EXPECT_EQ(plan.arena_bytes, 2 * MiB);
  EXPECT_EQ(plan.unshared_bytes, 3 * MiB);
}

TEST(MemoryPlan, LargestFirstAndSmallerOnesFillTheGaps) {
  // Big tensors early, small ones late: the small ones reuse the big ones' memory.
  const std::vector<MemoryRequest> r = {request("small1", 1000, 2, 3), request("big1", 4 * MiB, 0, 1),
                                        request("small2", 3000, 2, 3), request("big2", 2 * MiB, 1, 1)};
  const MemoryPlan plan = graph::plan_memory(r);
  EXPECT_TRUE(valid_plan(plan, r));
  EXPECT_EQ(plan.offsets[1], 0u);  // the largest goes first, at 0
  EXPECT_EQ(plan.offsets[3], 4 * MiB);
  EXPECT_EQ(plan.offsets[2], 0u);  // next largest among the late ones
  EXPECT_EQ(plan.offsets[0], 3072u);  // 3000 rounded up to 256
  EXPECT_EQ(plan.arena_bytes, 6 * MiB);
}

TEST(MemoryPlan, AlignmentHonoredForOddSizes) {
  std::vector<MemoryRequest> r = {request("x", 100, 0, 5), request("y", 7, 0, 5), request("z", 5000, 0, 5),
                                  request("w", 1, 0, 5)};
  r[1].alignment = 4096;
  r[2].alignment = 64;
  r[3].alignment = 1;
  const MemoryPlan plan = graph::plan_memory(r);
  EXPECT_TRUE(valid_plan(plan, r));
  EXPECT_EQ(plan.offsets[1] % 4096, 0u);
  EXPECT_EQ(plan.unshared_bytes, 256u + 4096u + 5056u + 1u);
}

TEST(MemoryPlan, NeverWorseThanNoSharing) {
  // Greedy by size puts the 300-byte block first and must pad the 256-aligned one to 512; laying
  // them end to end by alignment needs only 556 bytes, and the planner takes that.
  std::vector<MemoryRequest> r = {request("loose", 300, 0, 1), request("strict", 256, 0, 1)};
  r[0].alignment = 4;
  const MemoryPlan plan = graph::plan_memory(r);
  EXPECT_TRUE(valid_plan(plan, r));
  EXPECT_EQ(plan.unshared_bytes, 556u);
  EXPECT_EQ(plan.arena_bytes, 556u);
}

TEST(MemoryPlan, UnshareableRequestsNeverShare) {
  std::vector<MemoryRequest> r = {request("weights", MiB, 0, 0), request("act", MiB, 1, 1),
                                  request("moments", MiB, 2, 2), request("act2", MiB, 3, 3)};
  r[0].shareable = false;
  r[0].category = MemoryCategory::Parameters;
  r[2].shareable = false;
  r[2].category = MemoryCategory::OptimizerState;
  const MemoryPlan plan = graph::plan_memory(r);
  EXPECT_TRUE(valid_plan(plan, r));
  EXPECT_FALSE(memory_overlaps(plan, r, 0, 1));
  EXPECT_FALSE(memory_overlaps(plan, r, 0, 3));
  EXPECT_FALSE(memory_overlaps(plan, r, 2, 1));
  EXPECT_FALSE(memory_overlaps(plan, r, 0, 2));
  EXPECT_EQ(plan.offsets[1], plan.offsets[3]);  // the two activations still share
  EXPECT_EQ(plan.arena_bytes, 3 * MiB);
}

TEST(MemoryPlan, RandomRequestSetsNeverOverlapWhileLive) {
  std::mt19937_64 rng(20240611);
  constexpr uint64_t kAlignments[] = {1, 4, 16, 256, 4096};
  for (int set = 0; set < 500; ++set) {
    const size_t n = 1 + rng() % 48;
    const uint32_t positions = 1 + uint32_t(rng() % 24);
    std::vector<MemoryRequest> r(n);
    for (size_t i = 0; i < n; ++i) {
      r[i].name = "t" + std::to_string(i);
      r[i].bytes = rng() % 4 == 0 ? 1 + rng() % 64 : 1 + rng() % 200000;
      r[i].first_use = uint32_t(rng() % positions);
      r[i].last_use = r[i].first_use + uint32_t(rng() % (positions - r[i].first_use));
      r[i].alignment = kAlignments[rng() % std::size(kAlignments)];
      r[i].shareable = rng() % 8 != 0;
      r[i].category = MemoryCategory(rng() % size_t(MemoryCategory::Count));
    }
    const MemoryPlan plan = graph::plan_memory(r);
    ASSERT_TRUE(valid_plan(plan, r)) << "request set " << set;
    // No plan beats what is live at once: every unshareable request plus the busiest position.
    uint64_t pinned = 0, busiest = 0;
    for (const MemoryRequest& q : r) pinned += q.shareable ? 0 : q.bytes;
    for (uint32_t p = 0; p < positions; ++p) {
      uint64_t live = 0;
      for (const MemoryRequest& q : r) live += q.shareable && q.first_use <= p && p <= q.last_use ? q.bytes : 0;
      busiest = std::max(busiest, live);
    }
    ASSERT_GE(plan.arena_bytes, pinned + busiest) << "request set " << set;
  }
}

TEST(MemoryPlan, SameRequestsSamePlan) {
  std::mt19937_64 rng(7);
  std::vector<MemoryRequest> r;
  for (uint32_t i = 0; i < 64; ++i)
    r.push_back(request("t" + std::to_string(i), 1024 * (1 + rng() % 4), i % 10, i % 10 + uint32_t(rng() % 5)));
  const MemoryPlan first = graph::plan_memory(r);
  const MemoryPlan second = graph::plan_memory(r);
  EXPECT_EQ(first.offsets, second.offsets);
  EXPECT_EQ(first.arena_bytes, second.arena_bytes);
  // Equal sizes, overlapping lifetimes: request order decides.
  const std::vector<MemoryRequest> tie = {request("first", 512, 0, 1), request("second", 512, 0, 1)};
  EXPECT_EQ(graph::plan_memory(tie).offsets, (std::vector<uint64_t>{0, 512}));
}

TEST(MemoryPlan, CategoriesSummedAndNamed) {
  std::vector<MemoryRequest> r = {request("w", 1000, 0, 9), request("g", 1000, 5, 9), request("m", 2000, 0, 9),
                                  request("a1", 300, 0, 2), request("a2", 500, 3, 4), request("ws", 64, 1, 1)};
  r[0].category = MemoryCategory::Parameters;
  r[1].category = MemoryCategory::Gradients;
  r[2].category = MemoryCategory::OptimizerState;
  r[5].category = MemoryCategory::Workspace;
  const MemoryPlan plan = graph::plan_memory(r);
  EXPECT_EQ(plan.requested_by_category[size_t(MemoryCategory::Parameters)], 1000u);
  EXPECT_EQ(plan.requested_by_category[size_t(MemoryCategory::Gradients)], 1000u);
  EXPECT_EQ(plan.requested_by_category[size_t(MemoryCategory::OptimizerState)], 2000u);
  EXPECT_EQ(plan.requested_by_category[size_t(MemoryCategory::Activations)], 800u);
  EXPECT_EQ(plan.requested_by_category[size_t(MemoryCategory::Workspace)], 64u);
  EXPECT_EQ(graph::memory_category_name(MemoryCategory::Parameters), "parameters");
  EXPECT_EQ(graph::memory_category_name(MemoryCategory::Gradients), "gradients");
  EXPECT_EQ(graph::memory_category_name(MemoryCategory::OptimizerState), "optimizer_state");
  EXPECT_EQ(graph::memory_category_name(MemoryCategory::Activations), "activations");
  EXPECT_EQ(graph::memory_category_name(MemoryCategory::Workspace), "workspace");
}

TEST(MemoryPlan, EmptyPlanIsEmpty) {
  const MemoryPlan plan = graph::plan_memory({});
  EXPECT_TRUE(plan.offsets.empty());
  EXPECT_EQ(plan.arena_bytes, 0u);
  EXPECT_EQ(graph::describe(plan), "arena 0 B (without sharing 0 B)");
}

TEST(MemoryPlan, DescribeIsOneReadableLine) {
  std::vector<MemoryRequest> r = {request("act", 8 * MiB, 0, 1), request("w", 4 * MiB, 0, 1),
                                  request("act2", 8 * MiB, 2, 3)};
  r[1].category = MemoryCategory::Parameters;
  r[1].shareable = false;
  EXPECT_EQ(graph::describe(graph::plan_memory(r)),
            "arena 12.0 MiB (activations 16.0 MiB, parameters 4.0 MiB; without sharing 20.0 MiB)");
}

TEST(MemoryBudget, WithinBudgetPasses) {
  const MemoryPlan plan = graph::plan_memory(std::vector<MemoryRequest>{request("a", MiB, 0, 0)});
  EXPECT_NO_THROW(graph::check_budget(plan, MiB));
  EXPECT_NO_THROW(graph::check_budget(plan, 2 * MiB));
}

TEST(MemoryBudget, OverBudgetNamesBytesCategoriesAndWhatToDo) {
  std::vector<MemoryRequest> r = {request("act", 600 * MiB, 0, 3), request("w", 100 * MiB, 0, 3),
                                  request("m", 200 * MiB, 0, 3)};
  r[1].category = MemoryCategory::Parameters;
  r[2].category = MemoryCategory::OptimizerState;
  const MemoryPlan plan = graph::plan_memory(r);
  try {
    graph::check_budget(plan, 512 * MiB, "mlp 784-512-10");
    FAIL() << "expected vkgrad::Error";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("mlp 784-512-10"), std::string::npos) << msg;
    EXPECT_NE(msg.find("900.0 MiB"), std::string::npos) << msg;
    EXPECT_NE(msg.find(std::to_string(900 * MiB) + " bytes"), std::string::npos) << msg;
    EXPECT_NE(msg.find("512.0 MiB"), std::string::npos) << msg;
    EXPECT_NE(msg.find(std::to_string(512 * MiB) + " bytes"), std::string::npos) << msg;
    EXPECT_NE(msg.find("activations 600.0 MiB, optimizer_state 200.0 MiB"), std::string::npos) << msg;
    EXPECT_NE(msg.find("smaller batch"), std::string::npos) << msg;
    EXPECT_NE(msg.find("mixed precision"), std::string::npos) << msg;
    EXPECT_NE(msg.find("fewer or narrower layers"), std::string::npos) << msg;
    EXPECT_NE(e.hint().find("largest"), std::string::npos) << e.hint();
  }
}

TEST(MemoryPlanErrors, InvalidRequestsAreNamed) {
  std::vector<MemoryRequest> r = {request("ok", 16, 0, 1), request("empty", 0, 0, 1)};
  std::string msg = error_of(r);
  EXPECT_NE(msg.find("memory request 1 ('empty')"), std::string::npos) << msg;
  EXPECT_NE(msg.find("0 bytes"), std::string::npos) << msg;

  r[1] = request("backwards", 16, 5, 2);
  msg = error_of(r);
  EXPECT_NE(msg.find("memory request 1 ('backwards')"), std::string::npos) << msg;
  EXPECT_NE(msg.find("last_use 2"), std::string::npos) << msg;
  EXPECT_NE(msg.find("first_use 5"), std::string::npos) << msg;

  for (uint64_t bad : {uint64_t{0}, uint64_t{3}, uint64_t{96}}) {
    r[1] = request("misaligned", 16, 0, 1);
    r[1].alignment = bad;
    msg = error_of(r);
    EXPECT_NE(msg.find("memory request 1 ('misaligned')"), std::string::npos) << msg;
    EXPECT_NE(msg.find("alignment " + std::to_string(bad) + ", not a power of two"), std::string::npos) << msg;
  }

  r[1] = request("huge", ~uint64_t{0} - 10, 0, 1);
  msg = error_of(r);
  EXPECT_NE(msg.find("overflow"), std::string::npos) << msg;
}

}  // namespace
}  // namespace vkgrad::test
