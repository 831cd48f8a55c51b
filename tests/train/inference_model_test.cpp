// infer::Model: the forward pass alone, loaded from a training checkpoint, an exported
// state_dict or an FP16 state_dict. Its predictions are bitwise the trainer's (the same
// kernels on the same weights: FP16 copies of the same FP32 values under mixed precision), it
// holds no gradients or optimizer state, and loading is strict.
#include "vk_fixture.hpp"
#include "vkgrad/error.hpp"
#include "vkgrad/graph/gpt.hpp"
#include "vkgrad/graph/sequential.hpp"
#include "vkgrad/infer/model.hpp"
#include "vkgrad/io/checkpoint.hpp"
#include "vkgrad/io/safetensors.hpp"
#include "vkgrad/kernels/tensor_ref.hpp"
#include "vkgrad/train/trainer.hpp"

#include <filesystem>
#include <random>

namespace vkgrad::test {
namespace {

namespace fs = std::filesystem;
using graph::MemoryCategory;

// Convolution, batch norm (running statistics: buffers) and a linear head.
graph::Graph cnn(uint32_t classes = 3) {
  graph::Graph g;
  graph::Sequential net(g, g.input("x", {1, 6, 6}));
  net.conv2d(4, 3, {.padding = 1}).batch_norm2d().relu().flatten().linear(classes);
  g.cross_entropy(net.output(), g.labels("y"));
  return g;
}

struct InferenceModel : VkTest, ::testing::WithParamInterface<kernels::Precision> {
  static constexpr uint32_t kBatch = 8;
  fs::path dir = fs::temp_directory_path() / ("vkgrad-infer-" + std::to_string(std::random_device{}()));
  std::vector<float> x;
  std::vector<int32_t> y;
  InferenceModel() {
    fs::create_directories(dir);
    std::mt19937 rng(3);
    std::uniform_real_distribution<float> u(-1.0f, 1.0f);
    for (int i = 0; i < 13 * 36; ++i) x.push_back(u(rng));
    for (int i = 0; i < 13; ++i) y.push_back(i % 3);
  }
  ~InferenceModel() override { fs::remove_all(dir); }
  train::TrainerCreateInfo trainer_info() const {
    return {.batch_size = kBatch, .precision = GetParam(), .optimizer = train::OptimizerConfig::adamw(1e-2f)};
  }
  // A trainer 5 steps in (batch statistics moved the running ones away from their start).
  std::unique_ptr<train::Trainer> trained() {
    auto t = std::make_unique<train::Trainer>(context(), cnn(), trainer_info());
    const std::span<const float> xs(x);
    const std::span<const int32_t> ys(y);
    for (int i = 0; i < 5; ++i) t->step({kBatch, {{xs.first(kBatch * 36)}, {{}, ys.first(kBatch)}}});
    return t;
  }
  train::Batch inputs() const { return {13, {{x}}}; }  // 13 rows: two chunks of 8
};

TEST_P(InferenceModel, PredictsAsTheTrainerFromACheckpointAndAStateDict) {
  auto trainer = trained();
  const auto expected = trainer->predict(inputs());
  io::save_checkpoint(dir / "ckpt.safetensors", trainer->save_state());
  io::export_state_dict(dir / "state_dict.safetensors", trainer->save_state());

  for (const char* file : {"ckpt.safetensors", "state_dict.safetensors"}) {
    SCOPED_TRACE(file);
    infer::Model model(context(), cnn(), {.batch_size = kBatch, .precision = GetParam()});
    const auto report = model.load(dir / file);
    EXPECT_TRUE(report.missing.empty() && report.unexpected.empty());
    EXPECT_EQ(model.predict(inputs()), expected);
    // The weights as kept: FP16 under mixed precision, which parameter() widens back.
    auto weight = trainer->parameter("4.weight");
    if (GetParam() == kernels::Precision::Mixed)
      for (float& w : weight) w = kernels::half_value(kernels::half_bits(w));
    EXPECT_EQ(model.parameter("4.weight"), weight);
  }
}

TEST_P(InferenceModel, HoldsNoGradientsOrOptimizerStateAndASmallerArena) {
  auto trainer = trained();
  infer::Model model(context(), cnn(), {.batch_size = kBatch, .precision = GetParam()});
  model.load(trainer->save_state());
  const auto m = model.counters().device_bytes, t = trainer->counters().device_bytes;
  EXPECT_EQ(m[size_t(MemoryCategory::Gradients)], 0u);
  EXPECT_EQ(m[size_t(MemoryCategory::OptimizerState)], 0u);
  EXPECT_GT(t[size_t(MemoryCategory::OptimizerState)], 0u);
  // Under mixed precision the trainer keeps FP32 masters (4 B per weight) and FP16 copies (2 B),
  // an FP32 model the masters alone and a mixed model the FP16 copies alone; the running
  // statistics (FP32) in each. So trainer − FP32 model = FP32 model − mixed model = 2 B a weight.
  if (GetParam() == kernels::Precision::Mixed) {
    infer::Model fp32(context(), cnn(), {.batch_size = kBatch, .precision = kernels::Precision::Fp32});
    const uint64_t p16 = m[size_t(MemoryCategory::Parameters)], p32 = fp32.counters().device_bytes[size_t(MemoryCategory::Parameters)],
                   pt = t[size_t(MemoryCategory::Parameters)];
    EXPECT_GT(p32, p16);
    EXPECT_EQ(pt - p32, p32 - p16) << "parameter bytes: trainer " << pt << ", fp32 model " << p32 << ", mixed model " << p16;
  }
  EXPECT_LT(model.memory_plan().arena_bytes, trainer->memory_plan().arena_bytes);
  EXPECT_EQ(model.predict(inputs()), trainer->predict(inputs()));
}

INSTANTIATE_TEST_SUITE_P(Precisions, InferenceModel,
                         ::testing::Values(kernels::Precision::Mixed, kernels::Precision::Fp32),
                         [](const auto& p) { return p.param == kernels::Precision::Mixed ? "mixed" : "fp32"; });

TEST_F(VkTest, InferenceModelLoadsAnFp16StateDictAsPyTorchSavesOne) {
  // A state_dict of FP16 tensors (model.half() then safetensors.torch.save_file): a mixed model
  // rounds to the same FP16 values, so it predicts exactly as from the FP32 file.
  train::Trainer trainer(context(), cnn(), {.batch_size = 4});
  const auto state = trainer.save_state();
  const auto dir = fs::temp_directory_path() / ("vkgrad-infer16-" + std::to_string(std::random_device{}()));
  fs::create_directories(dir);
  std::vector<std::vector<uint16_t>> halves;
  halves.reserve(state.tensors.size());
  std::vector<io::TensorToWrite> tensors;
  for (const auto& [name, t] : state.tensors) {
    if (name.rfind("optim.", 0) == 0) continue;
    if (t.integer) continue;  // num_batches_tracked stays int64 in PyTorch: written below
    auto& h = halves.emplace_back();
    for (float v : t.values) h.push_back(kernels::half_bits(v));
    tensors.push_back({name, io::Dtype::F16, t.shape, std::as_bytes(std::span(h))});
  }
  const int64_t tracked = 0;
  tensors.push_back({"1.num_batches_tracked", io::Dtype::I64, {}, std::as_bytes(std::span(&tracked, 1))});
  io::save_safetensors(dir / "half.safetensors", tensors);

  std::vector<float> x(5 * 36);
  for (size_t i = 0; i < x.size(); ++i) x[i] = float(i % 7) * 0.25f - 0.75f;
  infer::Model model(context(), cnn(), {.batch_size = 4});
  model.load(dir / "half.safetensors");
  EXPECT_EQ(model.predict({5, {{x}}}), trainer.predict({5, {{x}}}));
  fs::remove_all(dir);
}

TEST_F(VkTest, InferenceModelLoadingIsStrict) {
  train::Trainer trainer(context(), cnn(), {.batch_size = 4});
  auto state = trainer.save_state();
  infer::Model other(context(), cnn(5), {.batch_size = 4});  // a head of 5 classes
  try {
    other.load(state);
    ADD_FAILURE() << "a mis-shaped tensor loaded";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'4.weight'"), std::string::npos) << e.what();
  }
  infer::Model model(context(), cnn(), {.batch_size = 4});
  state.tensors.erase("4.bias");
  state.tensors["extra.weight"] = {{2}, {1.0f, 2.0f}};
  try {
    model.load(state);
    ADD_FAILURE() << "a state without 4.bias loaded";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'4.bias'"), std::string::npos) << e.what();
  }
  const auto report = model.load(state, {.strict = false});
  EXPECT_EQ(report.missing, std::vector<std::string>{"4.bias"});
  EXPECT_EQ(report.unexpected, std::vector<std::string>{"extra.weight"});
  try {
    model.predict({2, {{std::vector<float>(2 * 36)}, {{}, std::vector<int32_t>(2)}, {std::vector<float>(3)}}});
    ADD_FAILURE() << "three feeds were taken";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("Model::predict"), std::string::npos) << e.what();
  }
}

TEST_F(VkTest, InferenceModelRunsAGptOnTokenIds) {
  // Token ids are an integer input (labels role), the attention and layer norms run forward only.
  const graph::GptConfig config{.vocab = 11, .context = 8, .layers = 1, .dim = 16, .heads = 2};
  train::Trainer trainer(context(), graph::gpt(config), {.batch_size = 2, .optimizer = train::OptimizerConfig::adamw(1e-2f)});
  std::vector<int32_t> idx(3 * 8), targets(3 * 8);
  for (size_t i = 0; i < idx.size(); ++i) {
    idx[i] = int32_t((i * 7) % 11);
    targets[i] = int32_t((i * 7 + 7) % 11);
  }
  const std::span<const int32_t> is(idx), ts(targets);
  for (int i = 0; i < 3; ++i) trainer.step({2, {{{}, is.first(16)}, {{}, ts.first(16)}}});
  infer::Model model(context(), graph::gpt(config), {.batch_size = 2});
  model.load(trainer.save_state());
  const train::Batch batch{3, {{{}, idx}}};
  const auto out = model.predict(batch);
  EXPECT_EQ(out.size(), 3u * 8 * 11);
  EXPECT_EQ(out, trainer.predict(batch));
}

}  // namespace
}  // namespace vkgrad::test
