// Numerical helpers for tests: fp16 rounding, tensor encoding per element type, and one
// shared expect_close (tolerance = abs + rel·|ref|, printing the first misses and the worst).
#pragma once

#include "vkgrad/kernels/tensor_ref.hpp"

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
std::vector<double> round_for(kernels::ElemType t, std::span<const double> values);

// The bytes of `values` as type `t`, elem_bytes(t) each. An odd fp16 count is not padded to a
// whole word: the caller chooses what the other half holds (make_tensor: its sentinel).
std::vector<std::byte> encode(kernels::ElemType t, std::span<const double> values);
std::vector<double> decode(kernels::ElemType t, std::span<const std::byte> bytes, size_t n);

// (f() at v[i] + h − f() at v[i] − h) / 2h, with v[i] restored: a float64 reference's
// derivative by central differences.
double central_difference(std::vector<double>& v, size_t i, double h, const std::function<double()>& f);

// n values uniform in [lo, hi) from a fixed-seed generator.
std::vector<double> uniform(size_t n, double lo, double hi, uint32_t seed);

// Element i passes when |got - ref| <= abs + rel·|ref|.
::testing::AssertionResult all_close(std::span<const double> got, std::span<const double> ref, double abs, double rel);

// Element i passes when |got - ref| <= tol[i].
::testing::AssertionResult all_close(std::span<const double> got, std::span<const double> ref,
                                     std::span<const double> tol);

}  // namespace vkgrad::test
