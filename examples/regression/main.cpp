// regression — vkgrad from a project of your own: fit y = sin(3x) + x/2 on [-2, 2] with a
// 1 → 64 → 64 → 1 tanh MLP (MSE, AdamW, mixed precision), report the largest error on a held-out
// grid, then show that an inference-only model loaded from the saved checkpoint predicts
// bitwise the same.
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
  const uint32_t epochs = argc > 1 ? uint32_t(std::atoi(argv[1])) : 80;
  const float max_error = argc > 2 ? std::strtof(argv[2], nullptr) : 0.05f;
  const std::string checkpoint = argc > 3 ? argv[3] : "regression.safetensors";
  try {
    // 4,096 training points drawn uniformly; the held-out grid lies between them.
    std::mt19937 rng(7);
    std::uniform_real_distribution<float> uniform(-2.0f, 2.0f);
    std::vector<float> x(4096), y(4096);
    for (size_t i = 0; i < x.size(); ++i) y[i] = target(x[i] = uniform(rng));
    std::vector<float> grid(401);
    for (size_t i = 0; i < grid.size(); ++i) grid[i] = -2.0f + 0.01f * float(i);

    vkgrad::vk::Context ctx;
    const vkgrad::graph::Graph g = model();
    const vkgrad::train::TrainerCreateInfo info{
        .batch_size = 128, .optimizer = vkgrad::train::OptimizerConfig::adamw(3e-3f, 0.0f)};
    vkgrad::train::Trainer trainer(ctx, g, info);
    vkgrad::data::FeatureBatcher batches(x, 1, y, 1, {.batch_size = 128, .seed = 1});
    std::vector<float> bx, by;
    std::vector<int32_t> unused;
    for (uint32_t e = 0; e < epochs; ++e) {
      while (const uint32_t rows = batches.next(bx, by, unused)) trainer.step({rows, {{bx}, {by}}});
      batches.order().next_epoch();
    }
    const vkgrad::train::Metrics m = trainer.metrics(vkgrad::train::Wait::Yes);

    const std::vector<float> pred = trainer.predict({uint32_t(grid.size()), {{grid}}});
    float worst = 0.0f;
    for (size_t i = 0; i < grid.size(); ++i) worst = std::max(worst, std::abs(pred[i] - target(grid[i])));
    std::printf("%s: %llu steps, last loss %.5f, max error on the held-out grid %.4f (limit %.4f)\n",
                ctx.caps().name.c_str(), (unsigned long long)m.steps, m.loss, worst, max_error);

    // An inference-only model (FP16 weights, no gradients or optimizer state) from the file.
    vkgrad::io::save_checkpoint(checkpoint, trainer.save_state());
    vkgrad::infer::Model reloaded(ctx, g, {.batch_size = info.batch_size});
    reloaded.load(checkpoint);
    const bool same = reloaded.predict({uint32_t(grid.size()), {{grid}}}) == pred;
    std::printf("inference model from %s: predictions %s\n", checkpoint.c_str(), same ? "bitwise the same" : "DIFFER");
    return worst <= max_error && same ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "regression: %s\n", e.what());
    return 2;
  }
}
