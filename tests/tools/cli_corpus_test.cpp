// Replays the command-line fuzz target's seed corpus and past findings (tests/fuzz/corpus/cli),
// and checks that the parse it drives refuses what the options' bounds exclude.
#include "fuzz/cli_fuzz_inputs.hpp"
#include "fuzz/corpus_replay.hpp"

namespace vkgrad::test {
namespace {

TEST(FuzzCorpus, Cli) { EXPECT_GT(replay_corpus("cli", fuzz::cli_input), 0u); }

TEST(BenchCli, RefusesWhatTheBoundsExclude) {
  const auto parses = [](std::vector<std::string> args) {
    CLI::App app{"vkgrad-bench"};
    bench::BenchCli cli;
    cli.add_to(app);
    std::reverse(args.begin(), args.end());
    try {
      app.parse(args);
      return true;
    } catch (const CLI::ParseError&) {
      return false;
    }
  };
  EXPECT_TRUE(parses({"train", "--lr", "1e-3", "--batch", "64"}));
  EXPECT_FALSE(parses({"train", "--lr", "nan"}));
  EXPECT_FALSE(parses({"train", "--lr", "-1"}));
  EXPECT_FALSE(parses({"train", "--batch", "0"}));
  EXPECT_FALSE(parses({"gemm", "--peak", "inf"}));
  EXPECT_FALSE(parses({"soak", "--sample-every", "0"}));
  EXPECT_FALSE(parses({"--json"}));
}

}  // namespace
}  // namespace vkgrad::test
