// `vkgrad-bench attention` on tiny shapes: a row per (context, head size) with a rate, and an
// activation plan that grows faster than the context (the composed attention's T×T matrices).
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

TEST(BenchAttention, ReportsRatesAndQuadraticMemory) {
  std::random_device rd;
  const fs::path out = fs::temp_directory_path() / ("vkgrad-bench-attention-" + std::to_string(rd()) + ".json");
  const std::string cmd = "VKGRAD_VALIDATION=1 VKGRAD_TUNE=0 " VKGRAD_BENCH_BIN
                          " attention --contexts 8,32 --head-dims 4 --heads 2 --tokens 64 --steps 1 --json > " +
                          out.string();
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  std::ifstream in(out);
  const auto doc = nlohmann::json::parse(in);
  fs::remove(out);
  const auto& rows = doc.at("rows");
  ASSERT_EQ(rows.size(), 2u);
  for (const auto& r : rows) EXPECT_GT(r.at("tokens_per_s").get<double>(), 0.0) << r.dump();
  // 4× the context: the per-sample plan grows by more than 4× (the scores grow 16×).
  const double small = rows[0].at("activation_bytes_per_sample"), large = rows[1].at("activation_bytes_per_sample");
  EXPECT_GT(large, 4 * small);
}

}  // namespace
}  // namespace vkgrad::test
