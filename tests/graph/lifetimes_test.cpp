// Activation lifetimes come from what each op's backward saves: a value stays alive exactly as
// long as a forward reads it or a backward that saved it has not run.
#include "graph/lifetimes.hpp"
#include "ops/op.hpp"
#include "vkgrad/error.hpp"

#include <gtest/gtest.h>

#include <optional>

namespace vkgrad::test {
namespace {

using Kind = graph::ActivationRequests::Kind;

// The request for tensor t's value (or gradient), if it has one.
std::optional<graph::MemoryRequest> request_of(const graph::ActivationRequests& r, Kind kind, uint32_t index) {
  for (size_t i = 0; i < r.requests.size(); ++i)
    if (r.owners[i].kind == kind && r.owners[i].index == index) return r.requests[i];
  return std::nullopt;
}

graph::ActivationRequests requests_for(const graph::Graph& g) {
  return graph::activation_requests(g, 4, ops::activation_types(g, kernels::ElemType::F32), 256);
}

TEST(Lifetimes, AddSavesNothingSoItsInputDiesAtTheForward) {
  graph::Graph g;
  const auto x = g.input("x", {8});
  const auto h = g.linear(x, 8, "a");                         // node 0; not saved by its own backward
  const auto s = g.add(h, g.parameter("p", {8}, {}));         // node 1
  g.mse(g.linear(s, 3, "b"), g.input("t", {3}));              // node 2 saves s
  const graph::StepPositions at{3};
  const auto r = requests_for(g);
  const auto hv = request_of(r, Kind::Value, h.id);
  ASSERT_TRUE(hv);
  EXPECT_EQ(hv->first_use, at.forward(0));
  EXPECT_EQ(hv->last_use, at.forward(1));  // the add's forward; its backward reads nothing
  const auto sv = request_of(r, Kind::Value, s.id);
  ASSERT_TRUE(sv);
  EXPECT_EQ(sv->last_use, at.backward(2));  // linear b's backward reads its input for dW
  EXPECT_EQ(hv->bytes, 4u * 8 * 4);         // rows × features × fp32
}

TEST(Lifetimes, MulKeepsBothOperandsAndGetsScratch) {
  graph::Graph g;
  const auto x = g.input("x", {6});
  const auto a = g.linear(x, 6, "a");
  const auto b = g.tanh(a);
  const auto m = g.mul(a, b);  // node 2
  g.mse(m, g.input("t", {6}));
  const graph::StepPositions at{3};
  const auto r = requests_for(g);
  // tanh's backward (after the mul's) reads a too; b is read last by the mul's backward.
  EXPECT_EQ(request_of(r, Kind::Value, a.id)->last_use, at.backward(1));
  EXPECT_EQ(request_of(r, Kind::Value, b.id)->last_use, at.backward(2));
  const auto scratch = request_of(r, Kind::Workspace, 2);
  ASSERT_TRUE(scratch);
  EXPECT_EQ(scratch->first_use, at.backward(2));
  EXPECT_EQ(scratch->last_use, at.backward(2));
  EXPECT_EQ(scratch->category, graph::MemoryCategory::Workspace);
}

TEST(Lifetimes, SoftmaxKeepsItsOutputNotItsInput) {
  graph::Graph g;
  const auto x = g.input("x", {5});
  const auto z = g.linear(x, 5, "a");  // node 0
  const auto p = g.softmax(z);         // node 1
  g.mse(p, g.input("t", {5}));
  const graph::StepPositions at{2};
  const auto r = requests_for(g);
  EXPECT_EQ(request_of(r, Kind::Value, z.id)->last_use, at.forward(1));
  EXPECT_EQ(request_of(r, Kind::Value, p.id)->last_use, at.backward(1));
  // z's gradient is written by the softmax backward and read by linear a's.
  const auto zg = request_of(r, Kind::Grad, z.id);
  ASSERT_TRUE(zg);
  EXPECT_EQ(zg->first_use, at.backward(1));
  EXPECT_EQ(zg->last_use, at.backward(0));
}

TEST(Lifetimes, FusedReluLinearKeepsItsOutputAndViewsShareTheirBase) {
  graph::Graph g;
  const auto x = g.input("x", {2, 3});
  const auto f = g.flatten(x);                                  // node 0, a view of x
  const auto h = g.linear(f, 4, "a", graph::Activation::Relu);  // node 1
  g.mse(g.linear(h, 2, "b"), g.input("t", {2}));                // node 2
  const graph::StepPositions at{3};
  const auto r = requests_for(g);
  EXPECT_FALSE(request_of(r, Kind::Value, f.id));  // views have no memory of their own
  EXPECT_FALSE(request_of(r, Kind::Value, x.id));  // inputs live in their feed buffers
  EXPECT_EQ(request_of(r, Kind::Value, h.id)->last_use, at.backward(1));  // relu' = [h > 0]
  ASSERT_TRUE(request_of(r, Kind::Workspace, 1));
  EXPECT_FALSE(r.requires_grad[x.id]);
  EXPECT_FALSE(request_of(r, Kind::Grad, x.id));
  EXPECT_TRUE(r.requires_grad[h.id]);
}

TEST(Lifetimes, ALossWithoutParametersIsAnError) {
  graph::Graph g;
  const auto x = g.input("x", {3});
  g.mse(g.tanh(x), g.input("t", {3}));
  g.parameter("unused", {3}, {});
  EXPECT_THROW(requests_for(g), Error);
}

}  // namespace
}  // namespace vkgrad::test
