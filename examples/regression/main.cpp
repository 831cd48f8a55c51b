// regression — vkgrad from a project of your own: fit y = sin(3x) + x/2 on [-2, 2] with a
// 1 → 64 → 64 → 1 tanh MLP (MSE, AdamW, mixed precision) through fit::fit with a validation
// split and the best checkpoint kept, report the largest error on a held-out grid, then show
// that an inference-only model loaded from that checkpoint predicts bitwise the same.
// Usage: regression [EPOCHS=80] [MAX_ERROR=0.05] [CHECKPOINT=regression.safetensors]. Exit status
// 0 when the fit is within MAX_ERROR and the reload matches, 1 when not, 2 on an error.
#include <vkgrad/vkgrad.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <random>
#include <string>
#include <vector>

namespace {

float target(float x) { return std::sin(3.0f * x) + 0.5f * x; }

vkgrad::graph::Graph model() {
  vkgrad::graph::Graph g;
  vkgrad::graph::Sequential net(g, g.input("x", {1}));  // parameters 0.weight, 0.bias, 2.weight, ...
  net.linear(64).tanh().linear(64).tanh().linear(1);
  g.mse(net.output(), g.input("y", {1}));
  return g;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace vkgrad;
  const uint32_t epochs = argc > 1 ? uint32_t(std::atoi(argv[1])) : 80;
  const float max_error = argc > 2 ? std::strtof(argv[2], nullptr) : 0.05f;
  const std::string checkpoint = argc > 3 ? argv[3] : "regression.safetensors";
  try {
    // 4,608 points drawn uniformly: 4,096 to train on, 512 to validate on.
    std::mt19937 rng(7);
    std::uniform_real_distribution<float> uniform(-2.0f, 2.0f);
    data::Dataset all{.features = 1};
    for (int i = 0; i < 4608; ++i) {
      all.x.push_back(uniform(rng));
      all.targets.push_back(target(all.x.back()));
    }
    const data::Split split = data::split_indices(all.count(), 512, 1);
    const data::Dataset train_set = all.subset(split.train), val_set = all.subset(split.validation);

    vk::Context ctx;
    const graph::Graph g = model();
    train::Trainer trainer(ctx, g, {.batch_size = 128, .optimizer = train::OptimizerConfig::adamw(3e-3f, 0.0f)});
    fit::DatasetBatches train(train_set, {.batch_size = 128, .seed = 1});
    fit::DatasetBatches val(val_set, {.batch_size = 128, .shuffle = false});
    const fit::FitResult result =
        fit::fit(trainer, train, &val, {.epochs = epochs, .best_checkpoint = checkpoint, .progress = false});
    std::printf("%s: %u epochs, best validation MSE %.6f at epoch %u\n", ctx.caps().name.c_str(), epochs,
                result.best_metric, result.best_epoch);

    // The held-out grid lies between the training points; the model is the best epoch's.
    std::vector<float> grid(401);
    for (size_t i = 0; i < grid.size(); ++i) grid[i] = -2.0f + 0.01f * float(i);
    infer::Model best(ctx, g, {.batch_size = 128});  // FP16 weights, no gradients or optimizer state
    best.load(checkpoint);
    const std::vector<float> pred = best.predict({uint32_t(grid.size()), {{grid}}});
    float worst = 0.0f;
    for (size_t i = 0; i < grid.size(); ++i) worst = std::max(worst, std::abs(pred[i] - target(grid[i])));
    std::printf("max error on the held-out grid %.4f (limit %.4f)\n", worst, max_error);

    // The trainer with the same weights predicts the same, bit for bit.
    trainer.load_state(io::load_checkpoint(checkpoint));
    const bool same = trainer.predict({uint32_t(grid.size()), {{grid}}}) == pred;
    std::printf("inference model from %s vs the trainer: predictions %s\n", checkpoint.c_str(),
                same ? "bitwise the same" : "DIFFER");
    return worst <= max_error && same ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "regression: %s\n", e.what());
    return 2;
  }
}
