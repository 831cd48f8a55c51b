// Replays the fuzzers' seed corpus and every past crash input (tests/fuzz/corpus/) through
// the fuzz targets' own entry points, so that findings stay fixed in ordinary test runs.
#include "fuzz/corpus_replay.hpp"
#include "fuzz/fuzz_inputs.hpp"

namespace vkgrad::test {
namespace {

TEST(FuzzCorpus, Safetensors) { EXPECT_GT(replay_corpus("safetensors", fuzz::safetensors_input), 0u); }
TEST(FuzzCorpus, Idx) { EXPECT_GT(replay_corpus("idx", fuzz::idx_input), 0u); }
TEST(FuzzCorpus, Npy) { EXPECT_GT(replay_corpus("npy", fuzz::npy_input), 0u); }
TEST(FuzzCorpus, Checkpoint) { EXPECT_GT(replay_corpus("checkpoint", fuzz::checkpoint_input), 0u); }
TEST(FuzzCorpus, Tuning) { EXPECT_GT(replay_corpus("tuning", fuzz::tuning_input), 0u); }

}  // namespace
}  // namespace vkgrad::test
