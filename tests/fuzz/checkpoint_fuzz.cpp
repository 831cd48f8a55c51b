// libFuzzer target: checkpoint_input (see fuzz_inputs.hpp).
#include "fuzz_inputs.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  vkgrad::fuzz::checkpoint_input(data, size);
  return 0;
}
