// `vkgrad-bench attention` on tiny shapes: a row per (context, head size, kernel) with a rate, and
// an activation plan that grows faster than the context for the composed attention (its T×T
// matrices) but in proportion to it for the fused one; and the fused kernel timed alone.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>

#ifndef VKGRAD_BENCH_BIN
#error "VKGRAD_BENCH_BIN must name vkgrad-bench"
#endif

namespace vkgrad::test {
namespace {

namespace fs = std::filesystem;

TEST(BenchAttention, ReportsRatesAndMemoryGrowth) {
  std::random_device rd;
  const fs::path out = fs::temp_directory_path() / ("vkgrad-bench-attention-" + std::to_string(rd()) + ".json");
  const std::string cmd = "VKGRAD_VALIDATION=1 VKGRAD_TUNE=0 " VKGRAD_BENCH_BIN
                          " attention --contexts 8,32 --head-dims 4 --heads 2 --tokens 64 --steps 1 --variants scalar --json > " +
                          out.string();
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  std::ifstream in(out);
  const auto doc = nlohmann::json::parse(in);
  fs::remove(out);
  const auto& rows = doc.at("rows");
  ASSERT_EQ(rows.size(), 4u);  // contexts × kernels (fused, then composed)
  for (const auto& r : rows) EXPECT_GT(r.at("tokens_per_s").get<double>(), 0.0) << r.dump();
  const auto per_sample = [&](size_t i) { return rows[i].at("activation_bytes_per_sample").get<double>(); };
  ASSERT_EQ(rows[0].at("kernel"), "fused");
  ASSERT_EQ(rows[3].at("kernel"), "composed");
  // 4× the context: the composed plan grows by more than 4× (the scores grow 16×), the fused one
  // by 4× (every tensor is [T, ·]; the same tokens per step keep the 256-byte alignment alike).
  EXPECT_GT(per_sample(3), 4 * per_sample(1));
  EXPECT_EQ(per_sample(2), 4 * per_sample(0));
  // --variants scalar: the fused kernel alone, a row per context.
  const auto& kernel_rows = doc.at("fused_kernel");
  ASSERT_EQ(kernel_rows.size(), 2u);
  for (const auto& r : kernel_rows) {
    EXPECT_EQ(r.at("variant"), "scalar");
    EXPECT_GT(r.at("tokens_per_s").get<double>(), 0.0) << r.dump();
  }
}

}  // namespace
}  // namespace vkgrad::test
