// libFuzzer target: cli_input (see cli_fuzz_inputs.hpp).
#include "cli_fuzz_inputs.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  vkgrad::fuzz::cli_input(data, size);
  return 0;
}
