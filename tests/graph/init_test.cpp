// Parameter initializers against torch.nn.init: fans, gains and bounds as PyTorch computes them
// (the expected numbers are Python's, from torch.nn.init's formulas), and sample statistics of
// large draws within 5 standard errors of the distribution's.
#include "vkgrad/error.hpp"
#include "vkgrad/graph/init.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numbers>
#include <random>
#include <string>
#include <vector>

namespace vkgrad::test {
namespace {

using graph::Init;
using graph::InitKind;
using graph::Nonlinearity;

using Dims = std::vector<uint32_t>;

std::vector<float> draw(const Init& init, const Dims& dims, uint64_t seed = 1234) {
  std::mt19937_64 rng(seed);
  return graph::initialize(init, dims, rng);
}

std::string error_of(const Init& init, const Dims& dims) {
  try {
    draw(init, dims);
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

// Sample mean and variance within 5 standard errors of the distribution's: SE(mean) = σ/√n,
// SE(variance) = √((μ4 - σ⁴)/n) with μ4 the fourth central moment.
void expect_moments(std::span<const float> v, double mean, double var, double mu4) {
  const double n = double(v.size());
  double sum = 0;
  for (float x : v) sum += x;
  const double m = sum / n;
  double ss = 0;
  for (float x : v) ss += (x - m) * (x - m);
  const double s2 = ss / (n - 1);
  EXPECT_NEAR(m, mean, 5 * std::sqrt(var / n)) << "sample mean over " << v.size() << " values";
  EXPECT_NEAR(s2, var, 5 * std::sqrt((mu4 - var * var) / n)) << "sample variance over " << v.size() << " values";
}

void expect_uniform_moments(std::span<const float> v, double lo, double hi) {
  const double h = (hi - lo) / 2;
  expect_moments(v, (lo + hi) / 2, h * h / 3, h * h * h * h / 5);
}

void expect_normal_moments(std::span<const float> v, double mean, double stddev) {
  const double var = stddev * stddev;
  expect_moments(v, mean, var, 3 * var * var);
}

// Kolmogorov–Smirnov distance to `cdf`, below 1.95/√n (the 0.1% critical value).
template <typename Cdf>
void expect_ks(std::span<const float> values, Cdf cdf) {
  std::vector<float> v(values.begin(), values.end());
  std::sort(v.begin(), v.end());
  const double n = double(v.size());
  double d = 0;
  for (size_t i = 0; i < v.size(); ++i) {
    const double f = cdf(double(v[i]));
    d = std::max({d, f - double(i) / n, double(i + 1) / n - f});
  }
  EXPECT_LT(d, 1.95 / std::sqrt(n)) << "Kolmogorov–Smirnov distance over " << v.size() << " values";
}

double normal_cdf(double x, double mean, double stddev) {
  return 0.5 * std::erfc(-(x - mean) / (stddev * std::numbers::sqrt2));
}

TEST(InitFans, TwoAndFourDims) {
  EXPECT_EQ(graph::fan_in_and_fan_out(Dims{512, 784}), std::make_pair(uint64_t{784}, uint64_t{512}));
  // Conv2d(3, 64, 7): weight (out, in, kh, kw).
  EXPECT_EQ(graph::fan_in_and_fan_out(Dims{64, 3, 7, 7}), std::make_pair(uint64_t{147}, uint64_t{3136}));
  EXPECT_EQ(graph::fan_in_and_fan_out(Dims{10, 20, 1}), std::make_pair(uint64_t{20}, uint64_t{10}));
}

TEST(InitFans, FewerThanTwoDimsThrowAsInPyTorch) {
  try {
    graph::fan_in_and_fan_out(Dims{512});
    FAIL() << "expected vkgrad::Error";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("[512]"), std::string::npos) << msg;
    EXPECT_NE(msg.find("fewer than 2 dims"), std::string::npos) << msg;
    EXPECT_NE(msg.find("linear_bias_default"), std::string::npos) << msg;
  }
  EXPECT_THROW(graph::fan_in_and_fan_out(Dims{}), Error);
  EXPECT_NE(error_of(graph::linear_weight_default(), Dims{512}).find("fewer than 2 dims"), std::string::npos);
  EXPECT_NE(error_of(Init{.kind = InitKind::XavierNormal}, Dims{512}).find("fewer than 2 dims"), std::string::npos);
  // A bias is 1-D and fine for the kinds that need no fans.
  EXPECT_EQ(draw(graph::linear_bias_default(784), Dims{512}).size(), 512u);
}

TEST(InitGain, MatchesPyTorchTable) {
  EXPECT_EQ(graph::calculate_gain(Nonlinearity::Linear), 1.0);
  EXPECT_EQ(graph::calculate_gain(Nonlinearity::Sigmoid), 1.0);
  EXPECT_EQ(graph::calculate_gain(Nonlinearity::Tanh), 1.6666666666666667);
  EXPECT_EQ(graph::calculate_gain(Nonlinearity::Relu), 1.4142135623730951);
  EXPECT_EQ(graph::calculate_gain(Nonlinearity::LeakyRelu), 1.4141428569978354);  // param None → 0.01
  EXPECT_EQ(graph::calculate_gain(Nonlinearity::LeakyRelu, 0), 1.4142135623730951);
  EXPECT_EQ(graph::calculate_gain(Nonlinearity::LeakyRelu, std::sqrt(5.0)), 0.5773502691896257);
  EXPECT_EQ(graph::calculate_gain(Nonlinearity::Relu, 0.3), 1.4142135623730951);  // only leaky reads param
}

TEST(InitBounds, AsPyTorchComputesThem) {
  // nn.Linear(784, 512): kaiming_uniform_(a=sqrt(5)) → bound sqrt(3)·gain/sqrt(784) = 1/28.
  const Init w = graph::resolve_init(graph::linear_weight_default(), Dims{512, 784});
  EXPECT_EQ(w.kind, InitKind::Uniform);
  EXPECT_EQ(w.b, 0.03571428571428571);
  EXPECT_EQ(w.a, -w.b);
  EXPECT_NEAR(w.b, 1 / std::sqrt(784.0), 1e-17);
  const Init bias = graph::linear_bias_default(784);
  EXPECT_EQ(bias.kind, InitKind::Uniform);
  EXPECT_EQ(bias.a, -0.03571428571428571);
  EXPECT_EQ(bias.b, 0.03571428571428571);
  const Init no_inputs = graph::linear_bias_default(0);  // PyTorch: bound 0 when fan_in is 0
  EXPECT_EQ(no_inputs.a, 0.0);
  EXPECT_EQ(no_inputs.b, 0.0);

  // kaiming_uniform_ with PyTorch's defaults (a=0, fan_in, leaky_relu) on Conv2d(128, 256, 3).
  const Init ku = graph::resolve_init(Init{.kind = InitKind::KaimingUniform}, Dims{256, 128, 3, 3});
  EXPECT_EQ(ku.kind, InitKind::Uniform);
  EXPECT_EQ(ku.b, 0.07216878364870323);
  // kaiming_normal_(mode='fan_out', nonlinearity='relu'), torchvision's ResNet choice.
  const Init kn = graph::resolve_init(
      Init{.kind = InitKind::KaimingNormal, .fan_out = true, .nonlinearity = Nonlinearity::Relu}, Dims{256, 128, 3, 3});
  EXPECT_EQ(kn.kind, InitKind::Normal);
  EXPECT_EQ(kn.a, 0.0);
  EXPECT_EQ(kn.b, 0.029462782549439483);
  const Init xu = graph::resolve_init(Init{.kind = InitKind::XavierUniform}, Dims{512, 784});
  EXPECT_EQ(xu.kind, InitKind::Uniform);
  EXPECT_EQ(xu.b, 0.06804138174397716);
  const Init xn = graph::resolve_init(
      Init{.kind = InitKind::XavierNormal, .gain = graph::calculate_gain(Nonlinearity::Tanh)}, Dims{512, 784});
  EXPECT_EQ(xn.kind, InitKind::Normal);
  EXPECT_EQ(xn.b, 0.0654728501098655);
}

TEST(InitSamples, LinearWeightIsUniformWithinItsBound) {
  const std::vector<float> v = draw(graph::linear_weight_default(), Dims{512, 784});
  ASSERT_EQ(v.size(), 512u * 784u);
  const float bound = float(1 / std::sqrt(784.0));
  const auto [lo, hi] = std::minmax_element(v.begin(), v.end());
  EXPECT_GE(*lo, -bound);
  EXPECT_LT(*hi, bound);
  // With 401408 draws the extremes lie within 1e-4 of the range's ends (miss probability < e^-40).
  EXPECT_LT(*lo, -bound * (1 - 1e-4f));
  EXPECT_GT(*hi, bound * (1 - 1e-4f));
  expect_uniform_moments(v, -bound, bound);
  expect_ks(v, [&](double x) { return std::clamp((x + bound) / (2 * bound), 0.0, 1.0); });
}

TEST(InitSamples, UniformHonorsItsRange) {
  const std::vector<float> v = draw(Init{.kind = InitKind::Uniform, .a = -2, .b = 5}, Dims{1000, 100});
  EXPECT_GE(*std::min_element(v.begin(), v.end()), -2.0f);
  EXPECT_LT(*std::max_element(v.begin(), v.end()), 5.0f);
  expect_uniform_moments(v, -2, 5);
  // A range too narrow for float still stays half-open.
  const std::vector<float> narrow = draw(Init{.kind = InitKind::Uniform, .a = 1, .b = 1 + 1e-9}, Dims{1000});
  for (float x : narrow) EXPECT_EQ(x, 1.0f);
}

TEST(InitSamples, KaimingAndXavierNormalMoments) {
  const Dims conv{256, 128, 3, 3};
  const std::vector<float> kn =
      draw(Init{.kind = InitKind::KaimingNormal, .fan_out = true, .nonlinearity = Nonlinearity::Relu}, conv);
  expect_normal_moments(kn, 0, 0.029462782549439483);
  expect_ks(kn, [](double x) { return normal_cdf(x, 0, 0.029462782549439483); });

  const std::vector<float> xn =
      draw(Init{.kind = InitKind::XavierNormal, .gain = graph::calculate_gain(Nonlinearity::Tanh)}, Dims{512, 784});
  expect_normal_moments(xn, 0, 0.0654728501098655);

  const std::vector<float> xu = draw(Init{.kind = InitKind::XavierUniform}, Dims{512, 784});
  expect_uniform_moments(xu, -0.06804138174397716, 0.06804138174397716);
}

TEST(InitSamples, NormalHasTheGaussianShape) {
  constexpr double mean = 3, stddev = 2;
  const std::vector<float> v = draw(Init{.kind = InitKind::Normal, .a = mean, .b = stddev}, Dims{200001});
  ASSERT_EQ(v.size(), 200001u);  // odd: the last pair drops its sine
  expect_normal_moments(v, mean, stddev);
  expect_ks(v, [&](double x) { return normal_cdf(x, mean, stddev); });
  // The share within one σ, a binomial proportion: within 5 standard errors of 0.6827.
  const double p = std::erf(1 / std::numbers::sqrt2);
  const double within = double(std::count_if(v.begin(), v.end(), [&](float x) { return std::abs(x - mean) < stddev; }));
  const double n = double(v.size());
  EXPECT_NEAR(within / n, p, 5 * std::sqrt(p * (1 - p) / n));
}

TEST(InitSamples, NormalIsBoxMullerOfTheDocumentedDraws) {
  // Recomputed with libm's log, cos and sin: the engine's own agree to float precision.
  std::mt19937_64 rng(99), replay(99);
  const std::vector<float> v = graph::initialize(Init{.kind = InitKind::Normal, .a = 0.5, .b = 3}, Dims{4097}, rng);
  for (size_t i = 0; i < v.size(); i += 2) {
    const double u1 = double((replay() >> 11) + 1) * 0x1p-53;
    const double u2 = double(replay() >> 11) * 0x1p-53;
    const double r = std::sqrt(-2 * std::log(u1));
    const double angle = 2 * std::numbers::pi * u2;
    for (size_t j = 0; j < 2 && i + j < v.size(); ++j) {
      const double ref = 0.5 + 3 * r * (j == 0 ? std::cos(angle) : std::sin(angle));
      ASSERT_NEAR(v[i + j], ref, 1e-6 * (1 + std::abs(ref))) << "value " << i + j;
    }
  }
  EXPECT_EQ(rng(), replay());  // and consumed exactly two draws per pair
}

TEST(InitSamples, UniformIsTheDocumentedDraws) {
  std::mt19937_64 rng(5), replay(5);
  const std::vector<float> v = graph::initialize(Init{.kind = InitKind::Uniform, .a = -1, .b = 3}, Dims{1000}, rng);
  for (size_t i = 0; i < v.size(); ++i) {
    const double u = double(replay() >> 11) * 0x1p-53;
    ASSERT_FLOAT_EQ(v[i], float(-1 + 4 * u)) << "value " << i;
  }
  EXPECT_EQ(rng(), replay());
}

TEST(InitSamples, ConstantsDrawNothing) {
  std::mt19937_64 rng(3), untouched(3);
  const Dims dims{3, 4};
  EXPECT_EQ(graph::initialize(Init{}, dims, rng), std::vector<float>(12, 0.0f));
  EXPECT_EQ(graph::initialize(Init{.kind = InitKind::Ones}, dims, rng), std::vector<float>(12, 1.0f));
  EXPECT_EQ(graph::initialize(Init{.kind = InitKind::Constant, .a = 0.25}, dims, rng), std::vector<float>(12, 0.25f));
  EXPECT_EQ(graph::initialize(Init{.kind = InitKind::Constant, .a = -7}, Dims{}, rng), std::vector<float>{-7.0f});
  EXPECT_EQ(rng(), untouched());
}

TEST(InitDeterminism, SameSeedSameBitsOtherSeedOtherValues) {
  for (const Init& init : {graph::linear_weight_default(), Init{.kind = InitKind::Normal, .a = 0, .b = 1},
                           Init{.kind = InitKind::XavierNormal}}) {
    const std::vector<float> a = draw(init, Dims{300, 77}, 42);
    const std::vector<float> b = draw(init, Dims{300, 77}, 42);
    const std::vector<float> c = draw(init, Dims{300, 77}, 43);
    EXPECT_EQ(a, b);
    size_t same = 0;
    for (size_t i = 0; i < a.size(); ++i) same += a[i] == c[i];
    EXPECT_LT(same, 10u) << "of " << a.size();
  }
}

TEST(InitDeterminism, GoldenValuesPinTheAlgorithm) {
  // The first values for seed 2024, as every platform must give them bit for bit. A change here
  // is a change of the documented algorithm: update the numbers and say so.
  const std::vector<float> n = draw(Init{.kind = InitKind::Normal, .a = 0, .b = 1}, Dims{5}, 2024);
  const std::vector<float> u = draw(graph::linear_weight_default(), Dims{2, 3}, 2024);
  const std::vector<float> golden_n = {0x1.190d2p-2f, -0x1.e6eee4p-1f, -0x1.a5304ap-1f, 0x1.67b624p+0f, 0x1.03c3a6p+1f};
  const std::vector<float> golden_u = {0x1.0a7abcp-3f,  0x1.5c79eap-2f,  -0x1.151712p-2f,
                                        -0x1.87dbc4p-3f, -0x1.23f0f4p-1f, -0x1.a96cb2p-2f};
  EXPECT_EQ(n, golden_n);
  EXPECT_EQ(u, golden_u);
}

TEST(InitDeterminism, ZeroElementTensorsGiveNoValues) {
  EXPECT_TRUE(draw(Init{.kind = InitKind::KaimingUniform}, Dims{0, 10}).empty());
  EXPECT_TRUE(draw(Init{.kind = InitKind::Normal}, Dims{4, 0}).empty());
  EXPECT_THROW(draw(Init{.kind = InitKind::KaimingUniform}, Dims{0}), Error);  // still no fans in 1-D
  EXPECT_THROW(graph::resolve_init(Init{.kind = InitKind::XavierUniform}, Dims{0, 10}), Error);
}

TEST(InitErrors, InvalidParametersAreNamed) {
  std::string msg = error_of(Init{.kind = InitKind::Uniform, .a = 1, .b = 0}, Dims{4});
  EXPECT_NE(msg.find("uniform initialization has a = 1 > b = 0"), std::string::npos) << msg;
  msg = error_of(Init{.kind = InitKind::Normal, .a = 0, .b = -1}, Dims{4});
  EXPECT_NE(msg.find("normal initialization has a negative std"), std::string::npos) << msg;
  msg = error_of(Init{.kind = InitKind::XavierUniform, .gain = -1}, Dims{4, 4});
  EXPECT_NE(msg.find("xavier_uniform initialization has gain -1"), std::string::npos) << msg;
  msg = error_of(Init{.kind = InitKind::Constant, .a = std::nan("")}, Dims{4});
  EXPECT_NE(msg.find("constant initialization has a non-finite value"), std::string::npos) << msg;
  msg = error_of(Init{.kind = InitKind::KaimingNormal, .negative_slope = INFINITY}, Dims{4, 4});
  EXPECT_NE(msg.find("kaiming_normal initialization has a non-finite negative_slope"), std::string::npos) << msg;
}

}  // namespace
}  // namespace vkgrad::test
