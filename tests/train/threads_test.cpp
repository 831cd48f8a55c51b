// Two Contexts, each with its own trainer, trained from two threads at once (the documented
// rule: distinct Contexts and the objects made with them are independent; one thread at a time
// per object). Each thread's result is bitwise the single-threaded run's, and validation is
// clean.
#include "numerics.hpp"
#include "vk_fixture.hpp"
#include "vkgrad/train/trainer.hpp"
#include "vkgrad/vk/context.hpp"

#include <thread>

namespace vkgrad::test {
namespace {

graph::Graph mlp() {
  graph::Graph g;
  const auto x = g.input("x", {8});
  g.mse(g.linear(g.linear(x, 32, "a", graph::Activation::Relu), 4, "b"), g.input("y", {4}));
  return g;
}

// 30 steps on data of `seed`, in a Context of its own: the flattened parameters.
std::vector<float> train_alone(uint32_t seed) {
  vk::Context ctx(strict_create_info());
  train::Trainer t(ctx, mlp(), {.batch_size = 16, .seed = seed});
  std::vector<float> x, y;
  for (double v : uniform(16 * 8, -1, 1, seed)) x.push_back(float(v));
  for (double v : uniform(16 * 4, -1, 1, seed + 100)) y.push_back(float(v));
  for (int i = 0; i < 30; ++i) t.step({16, {{x}, {y}}});
  std::vector<float> out;
  for (const auto& name : t.parameter_names())
    for (float v : t.parameter(name)) out.push_back(v);
  return out;
}

TEST_F(VkTest, TwoContextsTrainFromTwoThreadsAtOnce) {
  const auto a_alone = train_alone(1), b_alone = train_alone(2);
  std::vector<float> a, b;
  std::exception_ptr a_error, b_error;
  std::thread ta([&] {
    try {
      a = train_alone(1);
    } catch (...) {
      a_error = std::current_exception();
    }
  });
  std::thread tb([&] {
    try {
      b = train_alone(2);
    } catch (...) {
      b_error = std::current_exception();
    }
  });
  ta.join();
  tb.join();
  ASSERT_FALSE(a_error || b_error) << "a thread threw";
  EXPECT_EQ(a, a_alone);
  EXPECT_EQ(b, b_alone);
  EXPECT_NE(a, b);
}

}  // namespace
}  // namespace vkgrad::test
