// `vkgrad-bench conv` on a small shape: one row per variant the device runs and pass, each with
// a rate and an accuracy within the fp32-accumulation bound it reports.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <sstream>

#ifndef VKGRAD_BENCH_BIN
#error "VKGRAD_BENCH_BIN must name vkgrad-bench"
#endif

namespace vkgrad::test {
namespace {

namespace fs = std::filesystem;

TEST(BenchConv, ReportsEveryPassWithinItsErrorBound) {
  std::random_device rd;
  const fs::path out = fs::temp_directory_path() / ("vkgrad-bench-conv-" + std::to_string(rd()) + ".json");
  const std::string cmd = "VKGRAD_VALIDATION=1 VKGRAD_TUNE=0 " VKGRAD_BENCH_BIN
                          " conv --shapes 2x4x7x7,6x3,p1,g2 --types f32 --seconds 0.01 --json > " + out.string();
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  std::ifstream in(out);
  const auto doc = nlohmann::json::parse(in);
  fs::remove(out);
  std::set<std::string> passes;
  for (const auto& r : doc.at("results")) {
    passes.insert(r.at("pass").get<std::string>());
    // fp32 tensors: the portable fp32 variant everywhere, and cpu where buffer addresses are on.
    EXPECT_TRUE(r.at("variant") == "fp32" || r.at("variant") == "cpu") << r.dump();
    EXPECT_GT(r.at("gflops").get<double>(), 0.0);
    ASSERT_FALSE(r.at("max_rel_err").is_null());
    EXPECT_LE(r.at("max_rel_err").get<double>(), r.at("err_bound").get<double>()) << r.dump();
  }
  EXPECT_EQ(passes, (std::set<std::string>{"forward", "data_grad", "weight_grad"}));
}

}  // namespace
}  // namespace vkgrad::test
