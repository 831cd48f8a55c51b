// Replays the seed corpus and past crash inputs of the demos' readers (pictures through
// demos/common/image, char_transformer's text) through their fuzz targets' entry points.
#include "fuzz/corpus_replay.hpp"
#include "fuzz/demo_fuzz_inputs.hpp"

namespace vkgrad::test {
namespace {

TEST(FuzzCorpus, Image) { EXPECT_GT(replay_corpus("image", fuzz::image_input), 0u); }
TEST(FuzzCorpus, Corpus) { EXPECT_GT(replay_corpus("corpus", fuzz::corpus_input), 0u); }

}  // namespace
}  // namespace vkgrad::test
