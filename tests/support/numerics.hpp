// Numerical helpers for tests: fp16 rounding through GLM, tensor encoding per storage, and one
// shared expect_close (tolerance = abs + rel·|ref|, printing the first misses and the worst).
#pragma once

#include "vkgrad/kernels/variant.hpp"

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <random>
#include <span>
#include <vector>

namespace vkgrad::test {

// Round to the nearest fp16 value (ties to even, as the device's kernels round) and back.
float round_half(float x);
std::vector<double> round_for(kernels::Storage s, std::span<const double> values);

// Bytes of a tensor in `storage` (F16x2 pads an odd count with zero).
std::vector<std::byte> encode(kernels::Storage s, std::span<const double> values);
std::vector<double> decode(kernels::Storage s, std::span<const std::byte> bytes, size_t n);

// n values uniform in [lo, hi) from a fixed-seed generator.
std::vector<double> uniform(size_t n, double lo, double hi, uint32_t seed);

// Element i passes when |got - ref| <= abs + rel·|ref|.
::testing::AssertionResult all_close(std::span<const double> got, std::span<const double> ref, double abs, double rel);

// Element i passes when |got - ref| <= tol[i].
::testing::AssertionResult all_close(std::span<const double> got, std::span<const double> ref,
                                     std::span<const double> tol);

// Unit round-off of a storage format: 2^-11 for fp16, 2^-24 for fp32.
double unit_roundoff(kernels::Storage s);

}  // namespace vkgrad::test
