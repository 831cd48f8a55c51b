// fashion_mnist --data-parallel as 2 ranks under mpiexec, against the same run in one process:
// the same data order and global batch, so the same training up to the order of FP32 sums;
// only the first rank writes the summary and the run folder; no validation message on either.
#include "program_run.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>
#include <random>

#if !defined(FASHION_MNIST_BIN) || !defined(MPIEXEC)
#error "FASHION_MNIST_BIN and MPIEXEC must name the demo program and mpiexec"
#endif

namespace {

namespace fs = std::filesystem;
using vkgrad::test::slurp;

TEST(FashionMnistDemo, DataParallelMatchesOneProcess) {
  const fs::path dir = fs::temp_directory_path() / ("vkgrad-dp-" + std::to_string(std::random_device{}()));
  fs::create_directories(dir);
  const std::string common = " --limit 2048 --epochs 1 --seed 3 --json --out ";
  ASSERT_EQ(vkgrad::test::run_program(FASHION_MNIST_BIN, common + (dir / "one").string(), dir, "one"), 0)
      << slurp(dir / "one.err");
  // Open MPI runs as root only with its consent; two ranks may outnumber the cores.
  const std::string mpiexec = std::string("OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 ") + MPIEXEC +
                              " -n 2 --oversubscribe " + FASHION_MNIST_BIN + " --data-parallel";
  ASSERT_EQ(vkgrad::test::run_program(mpiexec, common + (dir / "two").string(), dir, "two"), 0) << slurp(dir / "two.err");

  const auto one = nlohmann::json::parse(slurp(dir / "one.json"));
  const auto two = nlohmann::json::parse(slurp(dir / "two.json"));  // one document: rank 1 prints none
  EXPECT_EQ(two["ranks"], 2);
  EXPECT_EQ(two["skipped_steps"], one["skipped_steps"]);
  // Per-rank FP32 gradient sums round differently from the whole batch's (~1e-7 relative);
  // after 16 AdamW steps through FP16 working copies the loss agrees to far better than 1 %,
  // and at most a few of the 10,000 test images change class.
  EXPECT_NEAR(two["final_loss"].get<double>(), one["final_loss"].get<double>(), 0.01 * one["final_loss"].get<double>());
  EXPECT_NEAR(two["test_accuracy"].get<double>(), one["test_accuracy"].get<double>(), 0.002);
  EXPECT_GT(two["test_accuracy"].get<double>(), 0.6) << "it learns";
  EXPECT_TRUE(fs::exists(dir / "two" / "checkpoint.safetensors"));
  const std::string err = slurp(dir / "two.err");
  EXPECT_EQ(err.find("validation error"), std::string::npos) << err;
  EXPECT_NE(err.find("data parallel: 2 ranks, 64 of each batch of 128 rows"), std::string::npos) << err;
  fs::remove_all(dir);
}

}  // namespace
