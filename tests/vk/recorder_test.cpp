// The recorder places a barrier exactly where declared ranges overlap with a hazard, and the
// results of chained kernels prove the barriers it did place are enough.
#include "f32_add.hpp"
#include "numerics.hpp"
#include "vk_fixture.hpp"
#include "vkgrad/error.hpp"
#include "vkgrad/vk/buffer.hpp"

#include <memory>

namespace vkgrad::test {
namespace {

using kernels::ElemType;

class RecorderTest : public VkTest {
protected:
  static constexpr uint32_t n = 512;
  vk::Context& ctx = context();
  F32Add add{ctx};
  vk::Buffer pool{ctx, {.size = 4 * 4 * n, .name = "four tensors"}};
  vk::BufferRange t(uint32_t i) const { return pool.range(4ull * n * i, 4ull * n); }

  void SetUp() override {
    std::vector<double> v(4 * n);
    for (size_t i = 0; i < v.size(); ++i) v[i] = double(i / n + 1);  // tensor i holds i+1
    const auto bytes = encode(ElemType::F32, v);
    vk::upload(ctx, pool, bytes.data(), bytes.size());
  }
  std::vector<double> read(uint32_t i) {
    std::vector<std::byte> bytes(4 * n);
    vk::download(ctx, pool, bytes.data(), bytes.size(), 4ull * n * i);
    return decode(ElemType::F32, bytes, n);
  }
};

TEST_F(RecorderTest, DisjointRangesOfOneBufferNeedNoBarrier) {
  uint32_t barriers = 0;
  ctx.run_now([&](VkCommandBuffer cmd) {
    vk::Recorder rec(ctx, cmd);
    add.record(rec, t(0), t(1), n);  // reads t0, writes t1
    add.record(rec, t(0), t(2), n);  // reads t0, writes t2: only read-read overlap
    barriers = rec.barrier_count();
  });
  EXPECT_EQ(barriers, 0u);
  EXPECT_EQ(read(1), std::vector<double>(n, 3.0));
  EXPECT_EQ(read(2), std::vector<double>(n, 4.0));
}

TEST_F(RecorderTest, ReadAfterWriteGetsOneBarrier) {
  uint32_t barriers = 0;
  ctx.run_now([&](VkCommandBuffer cmd) {
    vk::Recorder rec(ctx, cmd);
    add.record(rec, t(0), t(1), n);  // t1 = 1 + 2 = 3
    add.record(rec, t(1), t(2), n);  // t2 = 3 + 3 = 6, must see the new t1
    barriers = rec.barrier_count();
  });
  EXPECT_EQ(barriers, 1u);
  EXPECT_EQ(read(2), std::vector<double>(n, 6.0));
}

TEST_F(RecorderTest, WriteAfterReadGetsOneBarrier) {
  uint32_t barriers = 0;
  ctx.run_now([&](VkCommandBuffer cmd) {
    vk::Recorder rec(ctx, cmd);
    add.record(rec, t(0), t(1), n);  // reads t0
    add.record(rec, t(2), t(0), n);  // writes t0
    barriers = rec.barrier_count();
  });
  EXPECT_EQ(barriers, 1u);
  EXPECT_EQ(read(1), std::vector<double>(n, 3.0));
  EXPECT_EQ(read(0), std::vector<double>(n, 4.0));
}

TEST_F(RecorderTest, PartialOverlapCounts) {
  uint32_t barriers = 0;
  ctx.run_now([&](VkCommandBuffer cmd) {
    vk::Recorder rec(ctx, cmd);
    add.record(rec, t(0), t(1), n);
    // Reads the upper half of t1 and the lower half of t2: overlaps the write to t1.
    add.record(rec, pool.range(4ull * n + 2 * n, 4ull * n), t(3), n);
    barriers = rec.barrier_count();
  });
  EXPECT_EQ(barriers, 1u);
  // t3 = 4 + x, where x is new t1's upper half (3) then old t2's lower half (3).
  EXPECT_EQ(read(3), std::vector<double>(n, 7.0));
}

TEST_F(RecorderTest, CopyAndFillAreTracked) {
  uint32_t barriers = 0;
  ctx.run_now([&](VkCommandBuffer cmd) {
    vk::Recorder rec(ctx, cmd);
    rec.fill(t(1), 0);               // transfer write t1
    rec.copy(t(0), t(2));            // t0 → t2: no overlap with t1
    add.record(rec, t(2), t(1), n);  // reads t2, writes t1: both hazards → one barrier
    barriers = rec.barrier_count();
  });
  EXPECT_EQ(barriers, 1u);
  // 0 + 1: a missed fill or copy would leave 2 + 1 or 0 + 3.
  EXPECT_EQ(read(1), std::vector<double>(n, 1.0));
}

TEST_F(RecorderTest, TimestampsMeasureEachDispatch) {
  ASSERT_GT(ctx.caps().timestamp_valid_bits, 0u) << "the test device's compute queue has no timestamps";
  std::vector<vk::DispatchTiming> timings;
  {
    std::unique_ptr<vk::Recorder> rec;
    ctx.run_now([&](VkCommandBuffer cmd) {
      rec = std::make_unique<vk::Recorder>(ctx, cmd, vk::RecorderOptions{.timestamps = true});
      add.record(*rec, t(0), t(1), n);
      add.record(*rec, t(0), t(2), n);
    });
    timings = rec->timings();
  }
  ASSERT_EQ(timings.size(), 2u);
  for (const auto& t : timings) {
    EXPECT_EQ(t.label, F32Add::kLabel);
    EXPECT_GE(t.ms, 0.0);
    EXPECT_LT(t.ms, 10000.0);
  }
}

TEST_F(RecorderTest, WrongBindingCountIsAnError) {
  const auto& p = ctx.pipelines().get(
      {.shader = "elementwise", .bindings = 4, .push_constant_size = sizeof(kernels::ElementwiseArgs)});
  const vk::Binding one[] = {{t(0), vk::Access::Read}};
  ctx.run_now([&](VkCommandBuffer cmd) {
    vk::Recorder rec(ctx, cmd);
    EXPECT_THROW(rec.dispatch({.pipeline = &p, .bindings = one, .label = "bad"}), Error);
  });
}

}  // namespace
}  // namespace vkgrad::test
