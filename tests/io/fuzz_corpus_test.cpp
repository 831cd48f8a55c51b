// Replays the fuzzers' seed corpus and every past crash input (tests/fuzz/corpus/) through
// the fuzz targets' own entry points, so that findings stay fixed in ordinary test runs.
#include "fuzz/fuzz_inputs.hpp"
#include "paths.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>

namespace vkgrad::test {
namespace {

const std::filesystem::path kCorpus = build_path("VKGRAD_FUZZ_CORPUS", VKGRAD_FUZZ_CORPUS);

template <class F>
size_t replay(const std::string& folder, F&& run) {
  size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(kCorpus / folder)) {
    SCOPED_TRACE(entry.path().string());
    std::ifstream in(entry.path(), std::ios::binary);
    const std::vector<char> bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    run(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
    ++files;
  }
  return files;
}

TEST(FuzzCorpus, Safetensors) { EXPECT_GT(replay("safetensors", fuzz::safetensors_input), 0u); }
TEST(FuzzCorpus, Idx) { EXPECT_GT(replay("idx", fuzz::idx_input), 0u); }
TEST(FuzzCorpus, Npy) { EXPECT_GT(replay("npy", fuzz::npy_input), 0u); }

}  // namespace
}  // namespace vkgrad::test
