// A short run of the fashion_mnist demo on a subset, with the validation layer on: the loss
// falls, the JSON summary is complete, the run folder has its files, and --resume continues.
#include "program_run.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <sys/wait.h>

#ifndef FASHION_MNIST_BIN
#error "FASHION_MNIST_BIN must name the demo program"
#endif

namespace {

namespace fs = std::filesystem;
using vkgrad::test::slurp;

std::vector<nlohmann::json> lines(const fs::path& p) {
  std::vector<nlohmann::json> out;
  std::ifstream in(p);
  for (std::string l; std::getline(in, l);)
    if (!l.empty()) out.push_back(nlohmann::json::parse(l));
  return out;
}

int run(const std::string& args, const fs::path& dir, const std::string& tag) {
  return vkgrad::test::run_program(FASHION_MNIST_BIN, args, dir, tag);
}

TEST(FashionMnistDemo, ShortRunLearnsAndReports) {
  std::random_device rd;
  const fs::path dir = fs::temp_directory_path() / ("vkgrad-demo-" + std::to_string(rd()));
  fs::create_directories(dir);
  const fs::path out = dir / "run";
  const std::string common = "--limit 3072 --batch 128 --lr 2e-3 --out " + out.string();
  ASSERT_EQ(run(common + " --epochs 2 --json", dir, "first"), 0) << slurp(dir / "first.err");
  const std::string err = slurp(dir / "first.err");
  EXPECT_EQ(err.find("validation"), std::string::npos) << err;

  const auto summary = nlohmann::json::parse(slurp(dir / "first.json"));
  for (const char* key : {"test_accuracy", "epochs", "precision", "samples_per_s", "skipped_steps", "nonfinite_losses",
                          "final_loss_scale", "seconds"})
    EXPECT_TRUE(summary.contains(key)) << key;
  EXPECT_EQ(summary["epochs"], 2);
  EXPECT_EQ(summary["precision"], "mixed");
  EXPECT_GT(summary["test_accuracy"].get<double>(), 0.5);  // 10 classes: chance is 0.1
  EXPECT_LE(summary["test_accuracy"].get<double>(), 1.0);

  const auto epochs = lines(out / "metrics.jsonl");
  ASSERT_EQ(epochs.size(), 2u);
  EXPECT_LT(epochs[1]["test_loss"].get<double>(), epochs[0]["test_loss"].get<double>());
  EXPECT_TRUE(fs::exists(out / "curve.png"));
  EXPECT_GT(fs::file_size(out / "curve.png"), 1000u);
  ASSERT_TRUE(fs::exists(out / "checkpoint.safetensors"));

  // One more epoch from the checkpoint: a third line, and the run continues from epoch 3.
  ASSERT_EQ(run(common + " --epochs 3 --resume " + (out / "checkpoint.safetensors").string(), dir, "resume"), 0)
      << slurp(dir / "resume.err");
  const auto after = lines(out / "metrics.jsonl");
  ASSERT_EQ(after.size(), 3u);
  EXPECT_EQ(after[2]["epoch"], 3);
  fs::remove_all(dir);
}

// The CNN learns on a subset, and its exported state_dict has exactly the names, shapes and
// dtypes of the PyTorch twin (demos/fashion_mnist/main.cpp), read by Python's safetensors.
TEST(FashionMnistDemo, CnnLearnsAndExportsThePyTorchStateDict) {
  std::random_device rd;
  const fs::path dir = fs::temp_directory_path() / ("vkgrad-demo-" + std::to_string(rd()));
  fs::create_directories(dir);
  const fs::path exported = dir / "cnn.safetensors";
  ASSERT_EQ(run("--model cnn --limit 1024 --epochs 1 --lr 2e-3 --json --export-state-dict " + exported.string() +
                    " --out " + (dir / "run").string(),
                dir, "cnn"),
            0)
      << slurp(dir / "cnn.err");
  const auto summary = nlohmann::json::parse(slurp(dir / "cnn.json"));
  EXPECT_EQ(summary["model"], "cnn");
  EXPECT_GT(summary["test_accuracy"].get<double>(), 0.3);  // chance is 0.1
  const std::string script =
      "from safetensors.numpy import load_file\n"
      "d = load_file('" + exported.string() + "')\n"
      "want = {'features.0.weight': (32, 1, 3, 3), 'features.0.bias': (32,),\n"
      "        'features.3.weight': (64, 32, 3, 3), 'features.3.bias': (64,),\n"
      "        'classifier.1.weight': (128, 3136), 'classifier.1.bias': (128,),\n"
      "        'classifier.3.weight': (10, 128), 'classifier.3.bias': (10,)}\n"
      "assert {k: v.shape for k, v in d.items()} == want, {k: v.shape for k, v in d.items()}\n"
      "assert all(str(v.dtype) == 'float32' for v in d.values())\n";
  std::ofstream(dir / "check.py") << script;
  EXPECT_EQ(std::system(("python3 " + (dir / "check.py").string()).c_str()), 0);
  fs::remove_all(dir);
}

// A learning rate that blows the weights up: every later step has a non-finite loss and is
// skipped, and the demo stops after --max-skipped of them with a diagnosis.
TEST(FashionMnistDemo, StopsAfterConsecutiveSkippedSteps) {
  std::random_device rd;
  const fs::path dir = fs::temp_directory_path() / ("vkgrad-demo-" + std::to_string(rd()));
  fs::create_directories(dir);
  const int rc = run("--limit 1024 --epochs 1 --lr 1e30 --max-skipped 3 --out " + (dir / "run").string(), dir, "diverge");
  ASSERT_NE(rc, -1);
  EXPECT_EQ(WEXITSTATUS(rc), 3);
  const std::string err = slurp(dir / "diverge.err");
  EXPECT_NE(err.find("stopped: 3 consecutive steps skipped"), std::string::npos) << err;
  EXPECT_NE(err.find("lower --lr"), std::string::npos) << err;
  fs::remove_all(dir);
}

// Numbers that cannot train are refused when the command line is read, naming the option.
TEST(FashionMnistDemo, RefusesNonFiniteAndNegativeRates) {
  std::random_device rd;
  const fs::path dir = fs::temp_directory_path() / ("vkgrad-demo-" + std::to_string(rd()));
  fs::create_directories(dir);
  for (const char* lr : {"nan", "inf", "-0.001"}) {
    const int rc = run(std::string("--epochs 1 --limit 256 --lr ") + lr + " --out " + (dir / "run").string(), dir, "bad");
    ASSERT_NE(rc, -1);
    EXPECT_NE(WEXITSTATUS(rc), 0) << lr;
    const std::string err = slurp(dir / "bad.err");
    EXPECT_NE(err.find("--lr: must be a finite number in [0, 1e+30], not '" + std::string(lr) + "'"), std::string::npos)
        << err;
  }
  EXPECT_FALSE(fs::exists(dir / "run")) << "nothing is written for a refused command line";
  fs::remove_all(dir);
}

}  // namespace
