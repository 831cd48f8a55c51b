// Graph building: shapes checked as ops are added, errors naming the op and both shapes.
#include "vkgrad/error.hpp"
#include "vkgrad/graph/graph.hpp"
#include "vkgrad/graph/sequential.hpp"

#include <gtest/gtest.h>

namespace vkgrad::test {
namespace {

std::string error_of(auto&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(Graph, LinearCreatesPyTorchNamedParameters) {
  graph::Graph g;
  const auto x = g.input("x", {784});
  const auto h = g.linear(x, 512, "layers.0", graph::Activation::Relu);
  const auto y = g.linear(h, 10, "layers.1");
  g.cross_entropy(y, g.labels("y"));
  std::vector<std::string> names;
  for (uint32_t p : g.parameters()) names.push_back(g.tensors()[p].name);
  EXPECT_EQ(names, (std::vector<std::string>{"layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias"}));
  EXPECT_EQ(g.tensors()[g.parameters()[0]].dims, (std::vector<uint32_t>{512, 784}));
  EXPECT_EQ(g.info(y).dims, std::vector<uint32_t>{10});
  // ReLU is fused into the GEMM: two nodes for two layers.
  EXPECT_EQ(g.nodes().size(), 2u);
  EXPECT_EQ(g.feeds().size(), 2u);
}

TEST(Graph, GeluGetsItsOwnNode) {
  graph::Graph g;
  g.linear(g.input("x", {4}), 3, "l", graph::Activation::Gelu);
  ASSERT_EQ(g.nodes().size(), 2u);
  EXPECT_TRUE(std::holds_alternative<graph::attr::Unary>(g.nodes()[1].attr));
}

TEST(Graph, ShapeErrorsNameTheOpAndBothShapes) {
  graph::Graph g;
  const auto a = g.input("a", {512});
  const auto b = g.input("b", {256});
  const auto msg = error_of([&] { g.add(a, b); });
  EXPECT_NE(msg.find("add"), std::string::npos) << msg;
  EXPECT_NE(msg.find("[batch, 512]"), std::string::npos) << msg;
  EXPECT_NE(msg.find("[batch, 256]"), std::string::npos) << msg;
  const auto w = g.parameter("w", {10, 100}, {});
  const auto lin = error_of([&] { g.linear(a, w, std::nullopt); });
  EXPECT_NE(lin.find("[batch, 512]"), std::string::npos) << lin;
  EXPECT_NE(lin.find("[10, 100]"), std::string::npos) << lin;
  EXPECT_NE(error_of([&] { g.reshape(a, {3, 5}); }).find("reshape"), std::string::npos);
}

TEST(Graph, LossRules) {
  graph::Graph g;
  const auto x = g.input("x", {4});
  const auto y = g.linear(x, 3, "l");
  EXPECT_THROW(g.cross_entropy(y, g.input("t", {3})), Error);  // needs labels()
  EXPECT_THROW(g.mse(y, g.input("t2", {4})), Error);           // shape differs
  g.mse(y, g.input("t3", {3}));
  EXPECT_THROW(g.l1(y, g.input("t4", {3})), Error);  // one loss per graph
  EXPECT_THROW(g.input("x", {2}), Error);            // names are unique
}

TEST(Graph, ReshapeIsAView) {
  graph::Graph g;
  const auto x = g.input("x", {2, 6});
  const auto f = g.flatten(x);
  const auto r = g.reshape(f, {3, 4});
  EXPECT_EQ(g.info(r).alias_of, int32_t(x.id));
  EXPECT_EQ(g.info(f).dims, std::vector<uint32_t>{12});
}

TEST(Graph, ConvAndPoolShapesAndPyTorchNames) {
  graph::Graph g;
  const auto x = g.input("x", {1, 28, 28});
  auto h = g.conv2d(x, 32, 3, "features.0", {.padding = 1, .activation = graph::Activation::Relu});
  EXPECT_EQ(g.info(h).dims, (std::vector<uint32_t>{32, 28, 28}));
  h = g.max_pool2d(h, 2);
  EXPECT_EQ(g.info(h).dims, (std::vector<uint32_t>{32, 14, 14}));
  h = g.conv2d(h, 64, 3, "features.3", {.stride = 2, .groups = 2});
  EXPECT_EQ(g.info(h).dims, (std::vector<uint32_t>{64, 6, 6}));
  EXPECT_EQ(g.info(g.avg_pool2d(h, 3, 2, 1)).dims, (std::vector<uint32_t>{64, 3, 3}));
  EXPECT_EQ(g.info(g.adaptive_avg_pool2d(h, 1, 1)).dims, (std::vector<uint32_t>{64, 1, 1}));
  std::vector<std::string> names;
  for (uint32_t p : g.parameters()) names.push_back(g.tensors()[p].name);
  EXPECT_EQ(names, (std::vector<std::string>{"features.0.weight", "features.0.bias", "features.3.weight",
                                             "features.3.bias"}));
  EXPECT_EQ(g.tensors()[g.parameters()[2]].dims, (std::vector<uint32_t>{64, 16, 3, 3}));  // in / groups
  const auto flat = g.input("flat", {784});
  EXPECT_NE(error_of([&] { g.conv2d(flat, 8, 3, "bad"); }).find("[batch, 784]"), std::string::npos);
  EXPECT_NE(error_of([&] { g.conv2d(x, 8, 3, "odd", {.groups = 2}); }).find("groups"), std::string::npos);
  EXPECT_NE(error_of([&] { g.conv2d(x, 8, 31, "huge"); }).find("does not fit"), std::string::npos);
  EXPECT_NE(error_of([&] { g.max_pool2d(x, 4, 1, 3); }).find("half the kernel"), std::string::npos);
}

// A GPT's ends: token ids → embedding [positions, dim], a linear over the last dimension, and
// cross-entropy over every position against labels [positions].
TEST(Graph, TokensEmbeddingAndSequenceCrossEntropy) {
  graph::Graph g;
  const auto idx = g.labels("idx", {8});
  const auto x = g.embedding(idx, 100, 16, "wte");
  EXPECT_EQ(g.info(x).dims, (std::vector<uint32_t>{8, 16}));
  EXPECT_EQ(g.tensors()[g.parameters()[0]].name + shape_string(g.tensors()[g.parameters()[0]]), "wte.weight[100, 16]");
  const auto logits = g.linear(x, 100, "lm_head");
  EXPECT_EQ(g.info(logits).dims, (std::vector<uint32_t>{8, 100}));
  EXPECT_NE(error_of([&] { g.cross_entropy(logits, g.labels("y")); }).find("do not match"), std::string::npos);
  EXPECT_NE(error_of([&] { g.embedding(g.input("f", {8}), 100, 16, "bad"); }).find("int32 ids"), std::string::npos);
  EXPECT_NE(error_of([&] { g.labels("none", {0}); }).find("at least 1"), std::string::npos);
  g.cross_entropy(logits, g.labels("targets", {8}));
  EXPECT_TRUE(g.loss().has_value());
  g.set_init("wte.weight", {.kind = graph::InitKind::Normal, .a = 0, .b = 0.02});
  EXPECT_EQ(g.tensors()[g.parameters()[0]].init.b, 0.02);
  EXPECT_NE(error_of([&] { g.set_init("wpe.weight", {}); }).find("no parameter"), std::string::npos);
}

TEST(Graph, LayerNormOverTheLastDimension) {
  graph::Graph g;
  const auto x = g.input("tokens", {5, 16});
  EXPECT_EQ(g.info(g.layer_norm(x, "ln_f")).dims, (std::vector<uint32_t>{5, 16}));
  std::vector<std::string> names;
  for (uint32_t p : g.parameters()) names.push_back(g.tensors()[p].name + shape_string(g.tensors()[p]));
  EXPECT_EQ(names, (std::vector<std::string>{"ln_f.weight[16]", "ln_f.bias[16]"}));
  EXPECT_NE(error_of([&] { g.layer_norm(x, "bad", 0.0f); }).find("eps"), std::string::npos);
}

// The hash encoding's table is sized by its levels (dense ones (N + 1)^D, hashed ones the table).
TEST(Graph, HashGridTableAndShapes) {
  graph::Graph g;
  const auto xy = g.input("xy", {2});
  const auto h = g.hash_grid(xy, "encoding",
                             {.levels = 3, .features = 4, .log2_table_size = 6, .base_resolution = 3, .growth = 2.0f});
  EXPECT_EQ(g.info(h).dims, (std::vector<uint32_t>{12}));
  ASSERT_EQ(g.parameters().size(), 1u);
  const auto& table = g.tensors()[g.parameters()[0]];
  EXPECT_EQ(table.name, "encoding.params");
  EXPECT_EQ(table.dims, (std::vector<uint32_t>{16 + 49 + 64, 4}));  // resolutions 3, 6, 12
  EXPECT_NE(error_of([&] { g.hash_grid(g.input("xyzw", {4}), "e4"); }).find("[batch, 4]"), std::string::npos);
  EXPECT_NE(error_of([&] { g.hash_grid(g.linear(xy, 2, "lin"), "of_activation"); }).find("input()"), std::string::npos);
  EXPECT_NE(error_of([&] { g.hash_grid(xy, "wide", {.features = 9}); }).find("1-8 features"), std::string::npos);
}

// nn.Sequential's numbering (every module counts) and a ReLU fused into the layer before it.
TEST(Sequential, NamesMatchPyTorchAndReluFuses) {
  graph::Graph g;
  graph::Sequential features(g, g.input("x", {1, 28, 28}), "features");
  features.conv2d(32, 3, {.padding = 1}).relu().max_pool2d(2).conv2d(64, 3, {.padding = 1}).relu().max_pool2d(2);
  graph::Sequential classifier(g, features.output(), "classifier");
  const auto y = classifier.flatten().linear(128).relu().linear(10).tanh().output();
  std::vector<std::string> names;
  for (uint32_t p : g.parameters()) names.push_back(g.tensors()[p].name);
  EXPECT_EQ(names, (std::vector<std::string>{"features.0.weight", "features.0.bias", "features.3.weight",
                                             "features.3.bias", "classifier.1.weight", "classifier.1.bias",
                                             "classifier.3.weight", "classifier.3.bias"}));
  EXPECT_EQ(g.info(y).dims, std::vector<uint32_t>{10});
  // conv, pool, conv, pool, flatten, linear, linear, tanh: the ReLUs live in their layers' epilogues.
  EXPECT_EQ(g.nodes().size(), 8u);
  EXPECT_EQ(std::get<graph::attr::Conv2d>(g.nodes()[0].attr).activation, graph::Activation::Relu);
  EXPECT_EQ(std::get<graph::attr::Linear>(g.nodes()[5].attr).activation, graph::Activation::Relu);
  EXPECT_EQ(std::get<graph::attr::Linear>(g.nodes()[6].attr).activation, graph::Activation::None);
}

}  // namespace
}  // namespace vkgrad::test
