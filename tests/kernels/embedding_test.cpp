// The token embedding against float64: the lookup (exact: a copy of table values in the same
// type), the deterministic gradient scatter of repeated tokens (the same bits on every run, the
// accumulator left at zero), fp32 and fp16, odd and even widths; and a bad id, which must give
// NaN outputs and infinite gradients rather than read or write outside the table.
//
// Tolerance of the gradient: each term dy (exact in fp32) rounds to 2^-32 once, at most
// `positions` terms reach one element; the total converts to fp32 once (2^-24 absolute of its
// fraction part, 2^-24 relative) and adds to the old gradient (2^-24 relative).
#include "device_tensor.hpp"
#include "numerics.hpp"
#include "reference/embedding.hpp"
#include "vk_fixture.hpp"
#include "vkgrad/kernels/embedding.hpp"
#include "vkgrad/kernels/fixed_point.hpp"

#include <cmath>
#include <cstring>
#include <string>
#include <tuple>

namespace vkgrad::test {
namespace {

using kernels::ElemType;

DeviceBytes upload_ids(vk::Context& ctx, const std::vector<int32_t>& ids) {
  return upload_bytes(ctx, std::as_bytes(std::span(ids)), "ids");
}

class EmbeddingTest : public VkTestWithParam<std::tuple<ElemType, uint32_t>> {};

TEST_P(EmbeddingTest, LookupAndDeterministicScatterMatchFloat64) {
  const auto [t, dim] = GetParam();
  vk::Context& ctx = context();
  const uint32_t vocab = 11, positions = 37;
  std::vector<int32_t> ids(positions);
  for (uint32_t p = 0; p < positions; ++p) ids[p] = int32_t((p * 7 + p / 5) % 6);  // 6 tokens, repeated
  ids[3] = int32_t(vocab - 1);
  const size_t elements = size_t(vocab) * dim;
  const auto table = round_for(t, uniform(elements, -1, 1, 31));
  const auto dy = round_for(t, uniform(size_t(positions) * dim, -1, 1, 32));
  const auto g0 = uniform(elements, -1, 1, 33);
  const auto dev_ids = upload_ids(ctx, ids);
  const auto dev_table = make_tensor(ctx, table, elements, t, "table");
  const auto dev_y = make_tensor(ctx, {}, dy.size(), t, "y");
  const auto dev_dy = make_tensor(ctx, dy, dy.size(), t, "dy");
  const std::vector<double> zeros(kernels::fixed_point_accum_bytes(elements) / 4, 0.0);
  const auto accum = make_tensor(ctx, zeros, zeros.size(), ElemType::F32, "accum");  // 0.0f is all-zero bits
  const auto grads = make_tensor(ctx, g0, elements, ElemType::F32, "grads");
  const kernels::Embedding emb(ctx);
  run(ctx, [&](vk::Recorder& rec) {
    emb.forward(rec, dev_ids.range(), dev_table.ref(), dev_y.ref(), positions, dim, vocab);
    emb.backward(rec, dev_ids.range(), dev_dy.ref(), accum.range(), grads.range(), positions, dim, vocab);
  });
  EXPECT_EQ(read_back(ctx, dev_y), reference::embedding_forward(ids, table, dim)) << "lookup";

  auto want = reference::embedding_backward(ids, dy, vocab, dim);
  std::vector<double> tol(elements);
  for (size_t i = 0; i < elements; ++i) {
    want[i] += g0[i];
    tol[i] = positions * std::ldexp(1.0, -33) + 2 * kEps + 2 * kEps * std::fabs(want[i]);
  }
  const auto got = read_back(ctx, grads);
  EXPECT_TRUE(all_close(got, want, tol)) << "table gradient";
  EXPECT_EQ(read_back(ctx, accum), zeros) << "the accumulator is left at zero";

  const auto grads2 = make_tensor(ctx, g0, elements, ElemType::F32, "grads again");
  run(ctx, [&](vk::Recorder& rec) {
    emb.backward(rec, dev_ids.range(), dev_dy.ref(), accum.range(), grads2.range(), positions, dim, vocab);
  });
  EXPECT_EQ(read_back(ctx, grads2), got) << "the scatter depends on the order of its atomics";
}

INSTANTIATE_TEST_SUITE_P(Types, EmbeddingTest,
                         ::testing::Combine(::testing::Values(ElemType::F32, ElemType::F16), ::testing::Values(5u, 8u)),
                         [](const ::testing::TestParamInfo<std::tuple<ElemType, uint32_t>>& p) {
                           return std::string(kernels::elem_type_name(std::get<0>(p.param))) + "_dim" +
                                  std::to_string(std::get<1>(p.param));
                         });

TEST_F(VkTest, EmbeddingBadIdGivesNanAndAnOverflowNotAnOutOfBoundsAccess) {
  vk::Context& ctx = context();
  const uint32_t vocab = 4, dim = 3;
  const std::vector<int32_t> ids = {1, -1, 4, 2};
  const auto table = round_for(ElemType::F32, uniform(vocab * dim, -1, 1, 41));
  const auto dy = uniform(ids.size() * dim, -1, 1, 42);
  const std::vector<double> g0(vocab * dim, 0.0), zeros(kernels::fixed_point_accum_bytes(vocab * dim) / 4, 0.0);
  const auto dev_ids = upload_ids(ctx, ids);
  const auto dev_table = make_tensor(ctx, table, table.size(), ElemType::F32, "table");
  const auto dev_y = make_tensor(ctx, {}, dy.size(), ElemType::F32, "y");
  const auto dev_dy = make_tensor(ctx, dy, dy.size(), ElemType::F32, "dy");
  const auto accum = make_tensor(ctx, zeros, zeros.size(), ElemType::F32, "accum");
  const auto grads = make_tensor(ctx, g0, g0.size(), ElemType::F32, "grads");
  const kernels::Embedding emb(ctx);
  run(ctx, [&](vk::Recorder& rec) {
    emb.forward(rec, dev_ids.range(), dev_table.ref(), dev_y.ref(), uint32_t(ids.size()), dim, vocab);
    emb.backward(rec, dev_ids.range(), dev_dy.ref(), accum.range(), grads.range(), uint32_t(ids.size()), dim, vocab);
  });
  const auto y = read_back(ctx, dev_y);  // read_back also checks that nothing was written past y
  for (uint32_t p = 0; p < ids.size(); ++p)
    for (uint32_t f = 0; f < dim; ++f) {
      const double v = y[p * dim + f];
      if (p == 1 || p == 2)
        EXPECT_TRUE(std::isnan(v)) << "position " << p;
      else
        EXPECT_EQ(v, table[size_t(ids[p]) * dim + f]) << "position " << p;
    }
  for (double g : read_back(ctx, grads)) EXPECT_TRUE(std::isinf(g) && g > 0);
}

}  // namespace
}  // namespace vkgrad::test
