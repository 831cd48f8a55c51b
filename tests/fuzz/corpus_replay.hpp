// Replaying a fuzz target's seed corpus and past crash inputs (tests/fuzz/corpus/FOLDER) through
// its entry point inside a GoogleTest test: every finding stays a regression test. The corpus
// folder is the build's VKGRAD_FUZZ_CORPUS, or the environment's (tests/support/paths.hpp).
#pragma once

#include "paths.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace vkgrad::test {

// The number of inputs replayed.
template <class F>
size_t replay_corpus(const std::string& folder, F&& run) {
  const std::filesystem::path corpus = build_path("VKGRAD_FUZZ_CORPUS", VKGRAD_FUZZ_CORPUS);
  size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(corpus / folder)) {
    SCOPED_TRACE(entry.path().string());
    std::ifstream in(entry.path(), std::ios::binary);
    const std::vector<char> bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    run(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
    ++files;
  }
  return files;
}

}  // namespace vkgrad::test
