// Parameter initializers with torch.nn.init's distributions, parameters and arithmetic, drawn on
// the host with a generator whose values are bitwise the same on every run and platform.
//
// Pure functions; the only state is the caller's generator, which each call advances. Thread-safe
// for distinct generators; one thread at a time per generator.
#pragma once

#include <cstdint>
#include <random>
#include <span>
#include <utility>
#include <vector>

namespace vkgrad::graph {

enum class InitKind { Zeros, Ones, Constant, Uniform, Normal, KaimingUniform, KaimingNormal, XavierUniform, XavierNormal };

// torch.nn.init.calculate_gain's nonlinearities (Linear also stands for every convolution).
enum class Nonlinearity { Linear, Relu, LeakyRelu, Tanh, Sigmoid };

// How to initialize one tensor. The default is all zeros.
struct Init {
  InitKind kind = InitKind::Zeros;
  double a = 0, b = 1;        // Constant: value a; Uniform: [a, b), a <= b; Normal: mean a, std b >= 0
  double gain = 1;            // Xavier; >= 0
  double negative_slope = 0;  // Kaiming's `a`: the leaky ReLU slope; nn.Linear uses sqrt(5)
  bool fan_out = false;       // Kaiming's mode: fan_in (false, PyTorch's default) or fan_out
  Nonlinearity nonlinearity = Nonlinearity::LeakyRelu;  // Kaiming's; PyTorch's default
};

// 1 for Linear and Sigmoid, 5/3 for Tanh, sqrt(2) for Relu, sqrt(2 / (1 + param²)) for LeakyRelu
// (param is the negative slope; only LeakyRelu reads it).
double calculate_gain(Nonlinearity n, double param = 0.01);

// {fan_in, fan_out} = {dims[1]·receptive, dims[0]·receptive}, receptive = product of dims[2..]
// (dims[0] is the output features or channels). Throws Error for fewer than 2 dims, as PyTorch.
std::pair<uint64_t, uint64_t> fan_in_and_fan_out(std::span<const uint32_t> dims);

// nn.Linear(in, out)'s defaults: the weight is kaiming_uniform(a = sqrt(5)), which is
// U(-1/sqrt(in), 1/sqrt(in)); the bias is U(-1/sqrt(fan_in), 1/sqrt(fan_in)), all zeros for fan_in 0.
Init linear_weight_default();
Init linear_bias_default(uint32_t fan_in);

// `init` reduced, for a tensor of `dims`, to the Constant, Uniform or Normal it draws from, with
// the bound or standard deviation computed as PyTorch computes it (e.g. Kaiming uniform:
// bound = sqrt(3) · gain / sqrt(fan)). Zeros and Ones become Constant. Throws Error for invalid
// parameters, fewer than 2 dims for the Kaiming and Xavier kinds, or a zero fan.
Init resolve_init(const Init& init, std::span<const uint32_t> dims);

// Values for a tensor of `dims` (row-major; no dims is a scalar), drawn from `rng` in order.
// Deterministic and bitwise identical across runs, compilers and platforms, which the standard
// distributions are not: uniform u = (draw >> 11) · 2^-53, one draw per value, then a + (b - a)·u
// rounded to float (a value that rounds up to b becomes the float below it); normal by
// Box–Muller, two draws per pair of values: u1 = ((draw >> 11) + 1) · 2^-53, u2 = (draw >> 11) · 2^-53,
// r = sqrt(-2 ln u1), values mean + std·r·cos(2π u2) then mean + std·r·sin(2π u2) (an odd count
// drops the last sine). Constants draw nothing. A tensor with a zero dim gives no values.
// Throws Error as resolve_init does.
std::vector<float> initialize(const Init& init, std::span<const uint32_t> dims, std::mt19937_64& rng);

}  // namespace vkgrad::graph
