// libFuzzer target: corpus_input (see demo_fuzz_inputs.hpp).
#include "demo_fuzz_inputs.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  vkgrad::fuzz::corpus_input(data, size);
  return 0;
}
