// Checkpoints through files: save, load into a fresh trainer, continue — bitwise the same as
// training straight through; the state_dict export read back by Python's safetensors.
#include "numerics.hpp"
#include "vk_fixture.hpp"
#include "vkgrad/error.hpp"
#include "vkgrad/io/checkpoint.hpp"
#include "vkgrad/io/safetensors.hpp"
#include "vkgrad/train/trainer.hpp"

#include <cstdlib>
#include <fstream>
#include <cstring>
#include <filesystem>
#include <random>

namespace vkgrad::test {
namespace {

namespace fs = std::filesystem;

graph::Graph model() {
  graph::Graph g;
  auto h = g.input("x", {12});
  const auto y = g.labels("y");
  h = g.linear(h, 16, "layers.0", graph::Activation::Relu);
  g.cross_entropy(g.linear(h, 4, "layers.1"), y);
  return g;
}

fs::path scratch() {
  std::random_device rd;
  const auto dir = fs::temp_directory_path() / ("vkgrad-ckpt-" + std::to_string(rd()));
  fs::create_directories(dir);
  return dir;
}

struct Fixture : VkTest {
  std::vector<float> x;
  std::vector<int32_t> y;
  train::TrainerCreateInfo info;
  fs::path dir = scratch();
  Fixture() {
    for (double v : uniform(8 * 12, -1, 1, 5)) x.push_back(float(v));
    for (double v : uniform(8, 0, 4, 6)) y.push_back(int32_t(v));
    info.batch_size = 8;
    info.optimizer = train::OptimizerConfig::adamw(1e-2f);
    info.loss_scale.growth_interval = 3;
  }
  ~Fixture() override { fs::remove_all(dir); }
  train::Batch batch() const { return {8, {{x}, {{}, y}}}; }
  static std::vector<float> flat(train::Trainer& t) {
    std::vector<float> out;
    for (const auto& n : t.parameter_names())
      for (float v : t.parameter(n)) out.push_back(v);
    return out;
  }
};

TEST_F(Fixture, ResumeFromFileIsBitwise) {
  train::Trainer straight(context(), model(), info);
  for (int i = 0; i < 10; ++i) straight.step(batch());
  {
    train::Trainer first(context(), model(), info);
    for (int i = 0; i < 5; ++i) first.step(batch());
    io::save_checkpoint(dir / "ckpt.safetensors", first.save_state(), {{"data.next", "40"}});
  }
  io::Metadata meta;
  auto state = io::load_checkpoint(dir / "ckpt.safetensors", &meta);
  EXPECT_EQ(meta.at("data.next"), "40");
  EXPECT_EQ(meta.count("vkgrad.iteration"), 0u);  // engine keys are not the caller's
  EXPECT_EQ(state.device.iteration, 5u);
  EXPECT_EQ(state.precision, "mixed");  // what trained it, so that another trainer is not fed it silently
  EXPECT_EQ(state.optimizer, "adamw");
  info.seed = 99;
  train::Trainer resumed(context(), model(), info);
  resumed.load_state(state);
  for (int i = 0; i < 5; ++i) resumed.step(batch());
  const auto a = flat(straight), b = flat(resumed);
  ASSERT_EQ(a.size(), b.size());
  EXPECT_EQ(std::memcmp(a.data(), b.data(), 4 * a.size()), 0);
  EXPECT_EQ(straight.metrics(train::Wait::Yes).loss_scale, resumed.metrics(train::Wait::Yes).loss_scale);
}

TEST_F(Fixture, CheckpointLayoutUsesStateDictNames) {
  train::Trainer t(context(), model(), info);
  t.step(batch());
  io::save_checkpoint(dir / "ckpt.safetensors", t.save_state());
  const auto file = io::SafetensorsFile::load(dir / "ckpt.safetensors");
  for (const char* name : {"layers.0.weight", "layers.0.bias", "layers.1.weight", "optim.exp_avg.layers.0.weight",
                           "optim.exp_avg_sq.layers.1.bias", "scaler.scale", "scaler.growth_tracker"})
    EXPECT_TRUE(file.contains(name)) << name;
  EXPECT_EQ(file.tensor("layers.0.weight").shape, (std::vector<uint64_t>{16, 12}));
  EXPECT_EQ(file.to_f32("scaler.scale").at(0), 65536.0f);
  // A parameters-only file cannot resume training.
  io::export_state_dict(dir / "params.safetensors", t.save_state());
  EXPECT_THROW(io::load_checkpoint(dir / "params.safetensors"), Error);
}

// PyTorch's load_state_dict(strict=True) needs exactly the module's keys, shapes and dtypes;
// Python's safetensors (what PyTorch loads these files with) must read the same.
TEST_F(Fixture, StateDictReadsInPython) {
  train::Trainer t(context(), model(), info);
  io::export_state_dict(dir / "params.safetensors", t.save_state());
  const std::string script =
      "from safetensors.numpy import load_file\n"
      "d = load_file('" + (dir / "params.safetensors").string() + "')\n"
      "want = {'layers.0.weight': (16, 12), 'layers.0.bias': (16,), 'layers.1.weight': (4, 16), 'layers.1.bias': (4,)}\n"
      "assert {k: v.shape for k, v in d.items()} == want, {k: v.shape for k, v in d.items()}\n"
      "assert all(str(v.dtype) == 'float32' for v in d.values())\n";
  std::ofstream(dir / "check.py") << script;
  EXPECT_EQ(std::system(("python3 " + (dir / "check.py").string()).c_str()), 0);
}

}  // namespace
}  // namespace vkgrad::test
