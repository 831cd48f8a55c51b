// Paths the build or the toolchain gives test programs (the seed corpus, glslang, python3 with
// safetensors, the Fashion-MNIST package), each overridable through an environment variable, so
// that a bundle runs the tests on a machine without the source tree or the toolchain
// (tools/gpu-check sets them).
#pragma once

#include <cstdlib>
#include <string>

namespace vkgrad::test {

inline std::string build_path(const char* variable, const char* built_in) {
  const char* value = std::getenv(variable);
  return value && *value ? value : built_in;
}

}  // namespace vkgrad::test
