// The mixed-precision policy of whole graphs (ops::activation_types): a transformer's residual
// stream stays fp32, what GEMMs read and write is fp16, and an fp32 value falls back to fp16
// wherever an op that takes only fp16 reads it.
#include "graph/lifetimes.hpp"
#include "ops/op.hpp"
#include "vkgrad/graph/gpt.hpp"

#include <gtest/gtest.h>

#include <variant>

namespace vkgrad::test {
namespace {

using kernels::ElemType;

TEST(MixedPrecision, GptKeepsItsResidualStreamFp32) {
  const graph::Graph g = graph::gpt({.vocab = 20, .context = 8, .layers = 2, .dim = 16, .heads = 2, .dropout = 0.1f});
  const auto types = ops::activation_types(g, ElemType::F16);
  size_t adds = 0, norms = 0;
  for (const auto& n : g.nodes()) {
    const ElemType out = types[n.output()];
    const std::string& what = n.label;
    if (std::holds_alternative<graph::attr::Embedding>(n.attr) || std::holds_alternative<graph::attr::Add>(n.attr)) {
      EXPECT_EQ(out, ElemType::F32) << what;
      adds += std::holds_alternative<graph::attr::Add>(n.attr);
    } else if (std::holds_alternative<graph::attr::Dropout>(n.attr)) {
      EXPECT_EQ(out, types[n.inputs[0]]) << what << ": dropout keeps its input's type";
    } else {
      EXPECT_EQ(out, ElemType::F16) << what;  // layer norms, linears, attention, GELU
    }
    if (std::holds_alternative<graph::attr::LayerNorm>(n.attr)) {
      EXPECT_EQ(types[n.inputs[0]], ElemType::F32) << what << " reads the fp32 residual stream";
      ++norms;
    }
  }
  EXPECT_EQ(adds, 1u + 2u * 2u);  // the position embedding, then two residual adds per block
  EXPECT_EQ(norms, 2u * 2u + 1u);
  for (size_t t = 0; t < types.size(); ++t) {
    if (g.tensors()[t].role == graph::TensorRole::Parameter) {
      EXPECT_EQ(types[t], ElemType::F16) << g.tensors()[t].name;
    }
  }

  // fp32 activations: every tensor fp32.
  for (ElemType t : ops::activation_types(g, ElemType::F32)) {
    EXPECT_EQ(t, ElemType::F32);
  }

  // The residual stream's gradients are fp32 too: 4 bytes per element in the memory plan.
  const auto r = graph::activation_requests(g, 2, types, 256);
  for (size_t i = 0; i < r.requests.size(); ++i) {
    const auto [kind, owner] = r.owners[i];
    if (kind == graph::ActivationRequests::Kind::Workspace) continue;
    const uint64_t elements = 2ull * g.tensors()[owner].elements();
    EXPECT_EQ(r.requests[i].bytes, kernels::tensor_bytes(types[owner], elements)) << r.requests[i].name;
  }
}

TEST(MixedPrecision, Fp32FallsBackToFp16WhereAnFp16OpReadsIt) {
  graph::Graph g;
  const auto ids = g.labels("ids", {4});
  // Straight into a linear layer: the lookup is stored fp16, and so is a sum made of it alone.
  const auto direct = g.embedding(ids, 10, 6, "direct");
  const auto a = g.linear(direct, 6, "a");
  const auto direct_sum = g.add(direct, g.parameter("pos", {4, 6}, {}));
  // A pointwise op may read fp32 and write fp16: the GELU's output, which a mean reads, falls
  // back; the sum it reads stays fp32.
  const auto sum = g.add(g.embedding(ids, 10, 6, "chained"), g.parameter("pos2", {4, 6}, {}));
  const auto act = g.gelu(sum);
  const auto m = g.mean(act, 1);
  // A stream that layer norms (through a view) and adds read stays fp32, and its view with it.
  const auto stream = g.add(g.embedding(ids, 10, 6, "kept"), g.parameter("pos3", {4, 6}, {}));
  const auto view = g.reshape(stream, {24});
  const auto normed = g.layer_norm(g.reshape(view, {4, 6}), "ln");
  const auto pred = g.add(g.add(g.add(a, g.linear(normed, 6, "b")), direct_sum), stream);
  g.mse(g.reshape(pred, {24}), g.input("target", {24}));

  const auto types = ops::activation_types(g, ElemType::F16);
  const auto type_of = [&](graph::Tensor t) { return types[t.id]; };
  EXPECT_EQ(type_of(direct), ElemType::F16);
  EXPECT_EQ(type_of(direct_sum), ElemType::F16) << "its only wide input fell back";
  EXPECT_EQ(type_of(sum), ElemType::F32);
  EXPECT_EQ(type_of(act), ElemType::F16);
  EXPECT_EQ(type_of(m), ElemType::F16);
  EXPECT_EQ(type_of(stream), ElemType::F32);
  EXPECT_EQ(type_of(view), ElemType::F32);
  EXPECT_EQ(type_of(normed), ElemType::F16);
  EXPECT_EQ(type_of(pred), ElemType::F32) << "the loss reads either type";
}

}  // namespace
}  // namespace vkgrad::test
