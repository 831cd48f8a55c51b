// Every op's backward, checked on the device against central finite differences of the
// device's own forward loss, in fp32, with each fp32 GEMM variant the device can run (the
// default choice, and the portable one with buffer device addresses off). Graphs combine all
// ops: linear (plain and fused ReLU), GELU, gelu_tanh, tanh, sigmoid, add and mul (broadcast
// and same-shape), softmax, reshape, concat, slice, mean, sin, cos, the hash encoding, layer norm, causal self-attention (composed:
// matmul, transpose, causal softmax; and fused), conv2d (padding, stride, groups, depthwise with dilation,
// fused ReLU, no bias), max, average and adaptive pooling, batch norm, and each loss. Graphs
// with batch norm difference the training forward's loss (a step with learning rate 0), since
// evaluation normalizes by the running statistics instead.
//
// Tolerance: the loss is fp32 (relative rounding ~6e-8·|L| per evaluation), so a difference
// quotient with h = 2e-3 carries ~3e-5·|L|/h... of noise plus an O(h²) truncation error;
// |fd − g| ≤ 3e-3 + 3e-2·|g| covers both, while a wrong backward is off by O(|g|).
#include "numerics.hpp"
#include "vk_fixture.hpp"
#include "vkgrad/train/trainer.hpp"

#include <cmath>
#include <functional>
#include <string>

namespace vkgrad::test {
namespace {

using graph::Activation;

struct GraphCase {
  const char* name;
  graph::Graph (*build)();
  bool labels;
  uint32_t out;
  uint32_t in = 6;  // input elements per sample
  bool training_loss = false;  // difference the training forward (batch norm) rather than evaluation's
};

struct ContextCase {
  const char* name;
  std::vector<vk::Feature> disable;
};

graph::Graph elementwise_graph() {
  graph::Graph g;
  const auto x = g.input("x", {6});
  auto h = g.gelu(g.linear(x, 8, "a"));
  h = g.gelu_tanh(g.linear(h, 8, "b"));
  h = g.add(h, g.parameter("shift", {8}, {graph::InitKind::Uniform, -0.5, 0.5}));
  h = g.mul(h, g.parameter("gain", {8}, {graph::InitKind::Uniform, 0.5, 1.5}));
  h = g.tanh(g.linear(h, 4, "c"));
  g.mse(h, g.input("t", {4}));
  return g;
}

graph::Graph softmax_graph() {
  graph::Graph g;
  const auto x = g.input("x", {6});
  const auto s = g.sigmoid(g.linear(x, 8, "a"));
  const auto v = g.linear(x, 8, "b", Activation::Relu);
  auto h = g.add(g.mul(s, v), g.linear(x, 8, "c"));
  h = g.flatten(g.softmax(g.reshape(h, {2, 4})));
  g.cross_entropy(g.linear(h, 3, "d"), g.labels("y"));
  return g;
}

graph::Graph l1_graph() {
  graph::Graph g;
  const auto x = g.input("x", {6});
  g.l1(g.linear(g.linear(x, 5, "a", Activation::Relu), 3, "b"), g.input("t", {3}));
  return g;
}

// Fourier features: sin and cos of a learned projection.
graph::Graph fourier_graph() {
  graph::Graph g;
  const auto x = g.input("x", {6});
  const auto z = g.linear(x, 8, "proj");
  const auto h = g.add(g.sin(z), g.mul(g.cos(z), g.linear(x, 8, "gate")));
  g.mse(g.linear(h, 3, "out"), g.input("t", {3}));
  return g;
}

// The hash encoding's table, dense and hashed levels (coordinates outside [0, 1] extrapolate
// from the edge cells, still linear in the table).
graph::Graph hash_grid_graph() {
  graph::Graph g;
  const auto x = g.input("x", {2});
  const auto e = g.hash_grid(x, "grid", {.levels = 3, .features = 2, .log2_table_size = 5, .base_resolution = 2,
                                         .growth = 2.0f}, 0.5f);
  g.mse(g.linear(g.tanh(g.linear(e, 8, "a")), 3, "out"), g.input("t", {3}));
  return g;
}

// Layer norm over the last of two dimensions (rows within a sample), and on the input itself
// (whose gradient is not needed: γ and β only).
graph::Graph layer_norm_graph() {
  graph::Graph g;
  const auto x = g.input("x", {6});
  const auto n0 = g.layer_norm(x, "ln0");
  auto h = g.layer_norm(g.reshape(g.linear(n0, 8, "a"), {2, 4}), "ln1", 1e-3f);
  h = g.tanh(g.flatten(h));
  g.mse(g.linear(h, 3, "out"), g.input("t", {3}));
  return g;
}

// Causal self-attention over [4, width] (2 heads): composed from ops (linear over [T, dim],
// heads split out of the fused QKV, transposes of the head dimension, batched matmuls — q·kᵀ
// scaled, then ·v — and the causal softmax), or the fused attention op (width 8: 2 heads of 4,
// as the kernel takes even head dims).
graph::Graph attention_graph_of(graph::AttentionImpl impl, uint32_t width) {
  graph::Graph g;
  const auto x = g.reshape(g.input("x", {24}), {4, 6});
  const auto y = g.causal_self_attention(g.tanh(g.linear(x, width, "in")), 2, "attn", impl);
  g.mse(g.flatten(y), g.input("t", {4 * width}));
  return g;
}
graph::Graph attention_graph() { return attention_graph_of(graph::AttentionImpl::Composed, 6); }
graph::Graph attention_fused_graph() { return attention_graph_of(graph::AttentionImpl::Fused, 8); }

// concat, slice and mean along several dimensions.
graph::Graph concat_graph() {
  graph::Graph g;
  const auto x = g.input("x", {6});
  const auto h = g.reshape(g.linear(x, 12, "a"), {3, 4});
  const auto c = g.concat({g.tanh(g.linear(x, 5, "b")), g.linear(x, 2, "c")});          // [7]
  const auto parts = g.concat({g.mean(h, 0), g.mean(h, -1), g.slice(c, 0, 1, 6)}, 0);  // [4 + 3 + 5]
  const auto rows = g.slice(h, 0, 1, 3);                                                // [2, 4]
  g.mse(g.linear(g.concat({parts, g.flatten(rows)}), 3, "out"), g.input("t", {3}));
  return g;
}

graph::Graph cnn_graph() {
  graph::Graph g;
  const auto x = g.input("x", {2, 6, 6});
  auto h = g.conv2d(x, 4, 3, "c1", {.padding = 1, .activation = Activation::Relu});  // [4, 6, 6]
  h = g.max_pool2d(h, 2);                                                             // [4, 3, 3]
  h = g.conv2d(h, 4, 3, "c2", {.padding = 2, .dilation = 2, .groups = 4, .bias = false});  // depthwise
  h = g.conv2d(h, 6, 3, "c3", {.stride = 2, .padding = 1, .groups = 2});            // [6, 2, 2]
  h = g.avg_pool2d(h, 2, 1, 1);                                                       // [6, 3, 3]
  h = g.adaptive_avg_pool2d(h, 2, 1);                                                 // [6, 2, 1]
  g.cross_entropy(g.linear(g.flatten(h), 3, "fc"), g.labels("y"));
  return g;
}

graph::Graph batch_norm_graph() {
  graph::Graph g;
  const auto x = g.input("x", {2, 3, 4});
  auto h = g.batch_norm2d(x, "bn0");  // the input needs no gradient: only γ and β get one
  h = g.conv2d(h, 3, 3, "conv", {.padding = 1});
  h = g.batch_norm2d(h, "bn1", 1e-3f, 0.3f);
  g.mse(g.linear(g.flatten(g.tanh(h)), 3, "fc"), g.input("t", {3}));
  return g;
}

// Every parameter's gradient (a few entries each, to keep the device round trips affordable)
// against central differences of loss_at().
void expect_gradients_match(train::Trainer& t, const std::function<double()>& loss_at, const std::string& what) {
  const float h = 2e-3f;
  for (const auto& name : t.parameter_names()) {
    const auto grad = t.gradient(name);
    auto values = t.parameter(name);
    for (size_t i = 0; i < values.size(); i += std::max<size_t>(1, values.size() / 5)) {
      const float v = values[i];
      values[i] = v + h;
      t.set_parameter(name, values);
      const double up = loss_at();
      values[i] = v - h;
      t.set_parameter(name, values);
      const double down = loss_at();
      values[i] = v;
      t.set_parameter(name, values);
      const double fd = (up - down) / (2.0 * h);
      EXPECT_NEAR(grad[i], fd, 3e-3 + 3e-2 * std::fabs(fd)) << what << ": " << name << "[" << i << "]";
    }
  }
}

train::TrainerCreateInfo fp32_sgd0(uint32_t rows) {
  train::TrainerCreateInfo info;
  info.batch_size = rows;
  info.precision = train::Precision::Fp32;
  info.optimizer = train::OptimizerConfig::sgd(0.0f);
  info.loss_scale.mode = kernels::ScaleMode::Off;
  info.seed = 77;
  return info;
}

class GradCheck : public VkTestWithParam<std::tuple<GraphCase, ContextCase>> {};

TEST_P(GradCheck, BackwardMatchesFiniteDifferences) {
  const auto& [c, cc] = GetParam();
  const uint32_t rows = 5;
  train::Trainer t(context(cc.disable), c.build(), fp32_sgd0(rows));
  std::vector<float> x, targets;
  for (double v : uniform(rows * c.in, -1, 1, 1)) x.push_back(float(v));
  for (double v : uniform(rows * c.out, -1, 1, 2)) targets.push_back(float(v));
  const std::vector<int32_t> labels = {0, 2, 1, 2, 0};
  train::Batch batch{rows, {{x}, c.labels ? train::Feed{{}, labels} : train::Feed{targets}}};
  t.step(batch);
  ASSERT_FALSE(t.metrics(train::Wait::Yes).skipped);

  const auto loss_at = [&]() -> double {
    if (!c.training_loss) return t.evaluate(batch).loss;
    t.step(batch);
    return t.metrics(train::Wait::Yes).loss;
  };
  expect_gradients_match(t, loss_at, std::string(c.name) + " " + cc.name);
}

INSTANTIATE_TEST_SUITE_P(
    Ops, GradCheck,
    ::testing::Combine(::testing::Values(GraphCase{"elementwise_mse", elementwise_graph, false, 4},
                                         GraphCase{"softmax_cross_entropy", softmax_graph, true, 3},
                                         GraphCase{"relu_l1", l1_graph, false, 3},
                                         GraphCase{"fourier_mse", fourier_graph, false, 3},
                                         GraphCase{"hash_grid_mse", hash_grid_graph, false, 3, 2},
                                         GraphCase{"layer_norm_mse", layer_norm_graph, false, 3},
                                         GraphCase{"attention_mse", attention_graph, false, 24, 24},
                                         GraphCase{"attention_fused_mse", attention_fused_graph, false, 32, 24},
                                         GraphCase{"concat_slice_mean", concat_graph, false, 3},
                                         GraphCase{"cnn_cross_entropy", cnn_graph, true, 3, 2 * 6 * 6},
                                         GraphCase{"batch_norm_mse", batch_norm_graph, false, 3, 2 * 3 * 4, true}),
                       ::testing::Values(ContextCase{"default", {}},
                                         ContextCase{"portable", {vk::Feature::BufferDeviceAddress}})),
    [](const ::testing::TestParamInfo<std::tuple<GraphCase, ContextCase>>& p) {
      return std::string(std::get<0>(p.param).name) + "_" + std::get<1>(p.param).name;
    });

// Token ids through an embedding plus a learned position table, layer norm, and cross-entropy
// over every position (labels [positions]); repeated tokens exercise the summed table rows.
class TokenGradCheck : public VkTestWithParam<ContextCase> {};

TEST_P(TokenGradCheck, BackwardMatchesFiniteDifferences) {
  const uint32_t rows = 3, positions = 4, vocab = 7, dim = 6;
  graph::Graph g;
  const auto ids = g.labels("idx", {positions});
  const auto tokens = g.embedding(ids, vocab, dim, "wte");
  const auto pos = g.parameter("wpe", {positions, dim}, {graph::InitKind::Normal, 0, 0.5});
  const auto h = g.layer_norm(g.add(tokens, pos), "ln_f");
  g.cross_entropy(g.linear(h, vocab, "head"), g.labels("targets", {positions}));
  train::Trainer t(context(GetParam().disable), g, fp32_sgd0(rows));
  const std::vector<int32_t> idx = {1, 3, 3, 0, 6, 1, 1, 2, 5, 3, 4, 1};
  const std::vector<int32_t> targets = {3, 3, 0, 6, 1, 1, 2, 5, 3, 4, 1, 0};
  const train::Batch batch{rows, {{{}, idx}, {{}, targets}}};
  t.step(batch);
  ASSERT_FALSE(t.metrics(train::Wait::Yes).skipped);
  expect_gradients_match(t, [&] { return t.evaluate(batch).loss; }, GetParam().name);
}

INSTANTIATE_TEST_SUITE_P(Tokens, TokenGradCheck,
                         ::testing::Values(ContextCase{"default", {}},
                                           ContextCase{"portable", {vk::Feature::BufferDeviceAddress}}),
                         [](const ::testing::TestParamInfo<ContextCase>& p) { return std::string(p.param.name); });

}  // namespace
}  // namespace vkgrad::test
