// libFuzzer target: SafetensorsFile::parse and every tensor's conversions (see fuzz_inputs.hpp).
#include "fuzz_inputs.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  vkgrad::fuzz::safetensors_input(data, size);
  return 0;
}
