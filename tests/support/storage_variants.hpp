// The storage variants every elementwise kernel test runs under, each in the context that a
// device offering it would have: F16x2 runs where 16-bit storage is switched off.
#pragma once

#include "vkgrad/kernels/variant.hpp"
#include "vkgrad/vk/caps.hpp"

#include <gtest/gtest.h>

#include <string>
#include <tuple>
#include <vector>

namespace vkgrad::test {

struct StorageVariant {
  kernels::Storage storage;
  std::vector<vk::Feature> disable;
};

inline const std::vector<StorageVariant>& storage_variants() {
  static const std::vector<StorageVariant> all = {
      {kernels::Storage::F32, {}},
      {kernels::Storage::F16, {}},
      {kernels::Storage::F16x2, {vk::Feature::Storage16}},
  };
  return all;
}

// Test-name suffix for (variant, n) parameters: "f16x2_n513".
struct StorageCaseName {
  std::string operator()(const ::testing::TestParamInfo<std::tuple<StorageVariant, uint32_t>>& param) const {
    return std::string(kernels::storage_name(std::get<0>(param.param).storage)) + "_n" +
           std::to_string(std::get<1>(param.param));
  }
};

}  // namespace vkgrad::test
