// Bitwise reproducibility: the samplers below use only +, -, ·, /, sqrt, floor and frexp, which
// IEEE 754 rounds the same everywhere, with their own ln and sin/cos in place of libm's (whose
// last bit differs between implementations). This file is compiled with -ffp-contract=off
// (engine/graph/CMakeLists.txt) so that no compiler fuses a multiply-add on FMA hardware.
#include "vkgrad/graph/init.hpp"

#include "vkgrad/error.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <limits>
#include <string>

namespace vkgrad::graph {
namespace {

constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();

std::string shape_string(std::span<const uint32_t> dims) {
  std::string s = "[";
  for (size_t i = 0; i < dims.size(); ++i) s += (i ? ", " : "") + std::to_string(dims[i]);
  return s + "]";
}

std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

const char* kind_name(InitKind k) {
  switch (k) {
    case InitKind::Zeros: return "zeros";
    case InitKind::Ones: return "ones";
    case InitKind::Constant: return "constant";
    case InitKind::Uniform: return "uniform";
    case InitKind::Normal: return "normal";
    case InitKind::KaimingUniform: return "kaiming_uniform";
    case InitKind::KaimingNormal: return "kaiming_normal";
    case InitKind::XavierUniform: return "xavier_uniform";
    case InitKind::XavierNormal: return "xavier_normal";
  }
  return "?";
}

bool needs_fans(InitKind k) {
  return k == InitKind::KaimingUniform || k == InitKind::KaimingNormal || k == InitKind::XavierUniform ||
         k == InitKind::XavierNormal;
}

uint64_t multiply(uint64_t a, uint64_t b, std::span<const uint32_t> dims) {
  if (a != 0 && b > kMax / a)
    throw Error("a tensor of shape " + shape_string(dims) + " has more elements than 64 bits count",
                "check the shape given to the initializer");
  return a * b;
}

uint64_t element_count(std::span<const uint32_t> dims) {
  uint64_t n = 1;
  for (uint32_t d : dims) n = multiply(n, d, dims);
  return n;
}

void require(bool ok, const Init& init, const std::string& problem, const char* hint) {
  if (!ok) throw Error(std::string(kind_name(init.kind)) + " initialization " + problem, hint);
}

void validate(const Init& init) {
  switch (init.kind) {
    case InitKind::Zeros:
    case InitKind::Ones:
      return;
    case InitKind::Constant:
      require(std::isfinite(init.a), init, "has a non-finite value a = " + number(init.a), "give a finite value");
      return;
    case InitKind::Uniform:
      require(std::isfinite(init.a) && std::isfinite(init.b), init,
              "has a non-finite bound: a = " + number(init.a) + ", b = " + number(init.b), "give finite bounds");
      require(init.a <= init.b, init, "has a = " + number(init.a) + " > b = " + number(init.b),
              "uniform draws from [a, b): give a <= b");
      return;
    case InitKind::Normal:
      require(std::isfinite(init.a) && std::isfinite(init.b), init,
              "has a non-finite mean or std: a = " + number(init.a) + ", b = " + number(init.b),
              "give a finite mean (a) and std (b)");
      require(init.b >= 0, init, "has a negative std b = " + number(init.b), "the std (b) must be >= 0");
      return;
    case InitKind::KaimingUniform:
    case InitKind::KaimingNormal:
      require(std::isfinite(init.negative_slope), init,
              "has a non-finite negative_slope = " + number(init.negative_slope),
              "give the leaky ReLU slope (0 for PyTorch's default, sqrt(5) for nn.Linear's weight)");
      require(uint32_t(init.nonlinearity) <= uint32_t(Nonlinearity::Sigmoid), init,
              "has an unknown nonlinearity " + std::to_string(uint32_t(init.nonlinearity)),
              "pick one of Linear, Relu, LeakyRelu, Tanh, Sigmoid");
      return;
    case InitKind::XavierUniform:
    case InitKind::XavierNormal:
      require(std::isfinite(init.gain) && init.gain >= 0, init, "has gain " + number(init.gain),
              "give a finite gain >= 0, e.g. calculate_gain(Nonlinearity::Tanh)");
      return;
  }
  throw Error("initialization kind " + std::to_string(int(init.kind)) + " is not an InitKind",
              "pick one of the InitKind values");
}

// ln x for finite x > 0: x = m·2^e with m in [sqrt(1/2), sqrt(2)), ln m = 2·atanh(s) with
// s = (m - 1)/(m + 1), |s| < 0.172, whose series cut after s^21 errs by under 2^-60 relative
// (within 4 double ulps of the true ln after rounding; the values are floats).
double portable_log(double x) {
  int e = 0;
  double m = std::frexp(x, &e);
  if (m < 0x1.6a09e667f3bcdp-1) {
    m *= 2;
    --e;
  }
  const double s = (m - 1) / (m + 1);
  const double s2 = s * s;
  double p = 1.0 / 21;
  for (int k = 19; k >= 1; k -= 2) p = p * s2 + 1.0 / k;
  constexpr double kLn2Hi = 0x1.62e42fee00000p-1;  // exact times any exponent (fdlibm's split)
  constexpr double kLn2Lo = 0x1.a39ef35793c76p-33;
  const double de = double(e);
  return de * kLn2Hi + (de * kLn2Lo + 2 * s * p);
}

// 1/k! for k = 0..18, computed by the compiler (factorials to 22! are exact doubles).
constexpr std::array<double, 19> kInverseFactorial = [] {
  std::array<double, 19> t{};
  double f = 1;
  for (size_t k = 0; k < t.size(); ++k) {
    if (k > 1) f *= double(k);
    t[k] = 1 / f;
  }
  return t;
}();

// cos and sin of 2π·u for u in [0, 1). The quarter turn comes from u exactly (4u, its integer
// part and the remainder are exact in binary), leaving an angle in [-π/4, π/4) whose Taylor
// series to degree 17/18 is exact to below 2^-53.
std::pair<double, double> cos_sin_turns(double u) {
  const double q4 = u * 4;
  double q = std::floor(q4);
  double r = q4 - q;
  if (r >= 0.5) {
    r -= 1;
    q += 1;
  }
  const double t = r * 0x1.921fb54442d18p+0;  // π/2
  const double t2 = t * t;
  // Nested so that subtraction alternates the signs: c = 1 - t²(1/2! - t²(1/4! - …)).
  double c = kInverseFactorial[18];
  for (int k = 16; k >= 0; k -= 2) c = kInverseFactorial[size_t(k)] - c * t2;
  double s = kInverseFactorial[17];
  for (int k = 15; k >= 1; k -= 2) s = kInverseFactorial[size_t(k)] - s * t2;
  s *= t;
  switch (int(q) & 3) {
    case 0: return {c, s};
    case 1: return {-s, c};
    case 2: return {-c, -s};
    default: return {s, -c};
  }
}

double uniform01(std::mt19937_64& rng) { return double(rng() >> 11) * 0x1p-53; }             // [0, 1)
double uniform01_nonzero(std::mt19937_64& rng) { return double((rng() >> 11) + 1) * 0x1p-53; }  // (0, 1]

void fill_uniform(std::vector<float>& out, double lo, double hi, std::mt19937_64& rng) {
  const float flo = float(lo), fhi = float(hi);
  const float below_hi = std::nextafter(fhi, flo);
  const double width = hi - lo;
  for (float& v : out) {
    v = float(lo + width * uniform01(rng));
    if (v >= fhi && flo < fhi) v = below_hi;  // keep [lo, hi) half-open after rounding to float
  }
}

void fill_normal(std::vector<float>& out, double mean, double stddev, std::mt19937_64& rng) {
  for (size_t i = 0; i < out.size(); i += 2) {
    const double u1 = uniform01_nonzero(rng);
    const double u2 = uniform01(rng);
    const double r = std::sqrt(-2 * portable_log(u1));
    const auto [c, s] = cos_sin_turns(u2);
    out[i] = float(mean + stddev * (r * c));
    if (i + 1 < out.size()) out[i + 1] = float(mean + stddev * (r * s));
  }
}

}  // namespace

double calculate_gain(Nonlinearity n, double param) {
  switch (n) {
    case Nonlinearity::Linear:
    case Nonlinearity::Sigmoid: return 1;
    case Nonlinearity::Tanh: return 5.0 / 3;
    case Nonlinearity::Relu: return std::sqrt(2.0);
    case Nonlinearity::LeakyRelu: return std::sqrt(2.0 / (1 + param * param));
  }
  throw Error("calculate_gain: nonlinearity " + std::to_string(int(n)) + " is not a Nonlinearity",
              "pick one of Linear, Relu, LeakyRelu, Tanh, Sigmoid");
}

std::pair<uint64_t, uint64_t> fan_in_and_fan_out(std::span<const uint32_t> dims) {
  if (dims.size() < 2)
    throw Error("fan_in and fan_out of a tensor of shape " + shape_string(dims) +
                    " are undefined: it has fewer than 2 dims",
                "Kaiming and Xavier initialization need a weight shaped (out, in, ...); initialize biases and "
                "other 1-D tensors with Uniform, Normal or a constant (linear_bias_default(fan_in) for nn.Linear's)");
  uint64_t receptive = 1;
  for (size_t i = 2; i < dims.size(); ++i) receptive = multiply(receptive, dims[i], dims);
  return {multiply(dims[1], receptive, dims), multiply(dims[0], receptive, dims)};
}

Init linear_weight_default() {
  return Init{.kind = InitKind::KaimingUniform, .negative_slope = std::sqrt(5.0)};
}

Init linear_bias_default(uint32_t fan_in) {
  const double bound = fan_in > 0 ? 1 / std::sqrt(double(fan_in)) : 0;
  return Init{.kind = InitKind::Uniform, .a = -bound, .b = bound};
}

Init resolve_init(const Init& init, std::span<const uint32_t> dims) {
  validate(init);
  const auto constant = [](double v) { return Init{.kind = InitKind::Constant, .a = v}; };
  const auto uniform = [](double bound) { return Init{.kind = InitKind::Uniform, .a = -bound, .b = bound}; };
  const auto normal = [](double stddev) { return Init{.kind = InitKind::Normal, .a = 0, .b = stddev}; };
  switch (init.kind) {
    case InitKind::Zeros: return constant(0);
    case InitKind::Ones: return constant(1);
    case InitKind::Constant: return constant(init.a);
    case InitKind::Uniform: return Init{.kind = InitKind::Uniform, .a = init.a, .b = init.b};
    case InitKind::Normal: return Init{.kind = InitKind::Normal, .a = init.a, .b = init.b};
    default: break;
  }
  const auto [fan_in, fan_out] = fan_in_and_fan_out(dims);
  if (fan_in == 0 || fan_out == 0)
    throw Error(std::string(kind_name(init.kind)) + " initialization of a tensor of shape " + shape_string(dims) +
                    " divides by a fan of 0",
                "a tensor with a zero dim has no values to initialize: leave it out");
  // The arithmetic of torch.nn.init, operation for operation, so the bounds match to the bit.
  if (init.kind == InitKind::KaimingUniform || init.kind == InitKind::KaimingNormal) {
    const double fan = double(init.fan_out ? fan_out : fan_in);
    const double gain = calculate_gain(init.nonlinearity, init.negative_slope);
    const double stddev = gain / std::sqrt(fan);
    return init.kind == InitKind::KaimingUniform ? uniform(std::sqrt(3.0) * stddev) : normal(stddev);
  }
  const double stddev = init.gain * std::sqrt(2.0 / double(fan_in + fan_out));
  return init.kind == InitKind::XavierUniform ? uniform(std::sqrt(3.0) * stddev) : normal(stddev);
}

std::vector<float> initialize(const Init& init, std::span<const uint32_t> dims, std::mt19937_64& rng) {
  const uint64_t count = element_count(dims);
  if (count == 0) {  // PyTorch skips zero-element tensors; still reject what it would reject
    validate(init);
    if (needs_fans(init.kind)) fan_in_and_fan_out(dims);
    return {};
  }
  const Init d = resolve_init(init, dims);
  std::vector<float> out(count);
  switch (d.kind) {
    case InitKind::Uniform: fill_uniform(out, d.a, d.b, rng); break;
    case InitKind::Normal: fill_normal(out, d.a, d.b, rng); break;
    default: std::fill(out.begin(), out.end(), float(d.a)); break;
  }
  return out;
}

}  // namespace vkgrad::graph
