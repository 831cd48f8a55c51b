// A short embed_renderer run with the validation layer (synchronization validation included) on
// the host's own instance: the frames' PSNR climbs, every frame has its GPU times, the three PNGs
// are written and no validation message was reported; the training queue shared under the host's
// lock works too; bad input is a clear error.
#include "program_run.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <random>

#ifndef EMBED_RENDERER_BIN
#error "EMBED_RENDERER_BIN must name the demo program"
#endif

namespace {

namespace fs = std::filesystem;
using vkgrad::test::slurp;

struct EmbedRendererDemo : ::testing::Test {
  void SetUp() override {
    dir = fs::temp_directory_path() / ("vkgrad-er-" + std::to_string(std::random_device{}()));
    fs::create_directories(dir);
  }
  void TearDown() override { fs::remove_all(dir); }
  int run(const std::string& args, const std::string& tag) {
    return vkgrad::test::run_program(EMBED_RENDERER_BIN, args, dir, tag);
  }
  fs::path dir;
};

TEST_F(EmbedRendererDemo, FramesSharpenAsTheFieldTrains) {
  const fs::path out = dir / "run";
  ASSERT_EQ(run("--frames 16 --steps-per-frame 6 --json --out " + out.string(), "run"), 0) << slurp(dir / "run.err");
  const auto s = nlohmann::json::parse(slurp(dir / "run.json"));
  EXPECT_TRUE(s["validation"].get<bool>());
  EXPECT_EQ(s["validation_errors"], 0) << slurp(dir / "run.err");
  EXPECT_EQ(s["validation_warnings"], 0) << slurp(dir / "run.err");
  EXPECT_EQ(s["steps"], 15 * 6);
  const auto& frames = s["frames"];
  ASSERT_EQ(frames.size(), 16u);
  for (size_t f = 0; f < frames.size(); ++f) {
    EXPECT_GT(frames[f]["render_ms"].get<double>(), 0.0) << f;
    EXPECT_GT(frames[f]["inference_ms"].get<double>(), 0.0) << f;
    EXPECT_EQ(frames[f]["train_ms"].get<double>() > 0.0, f + 1 < frames.size()) << f;
  }
  // The untrained field is a flat grey (~12 dB against the procedural picture); 90 steps of the
  // hash grid reach well over 20 dB (lavapipe: 28 dB), and the climb is steady.
  EXPECT_GT(s["last_psnr"].get<double>(), s["first_psnr"].get<double>() + 8.0) << frames.dump();
  EXPECT_GT(frames[8]["psnr"].get<double>(), s["first_psnr"].get<double>()) << frames.dump();
  ASSERT_EQ(s["pngs"].size(), 3u);
  for (const char* png : {"frame0.png", "frame8.png", "frame15.png"}) EXPECT_TRUE(fs::exists(out / png)) << png;
}

TEST_F(EmbedRendererDemo, TrainsOnTheGraphicsQueueUnderTheHostsLock) {
  ASSERT_EQ(run("--frames 3 --steps-per-frame 2 --queue shared --precision fp32 --json --out " + (dir / "run").string(),
                "run"),
            0)
      << slurp(dir / "run.err");
  const auto s = nlohmann::json::parse(slurp(dir / "run.json"));
  EXPECT_EQ(s["queue"], "shared");
  EXPECT_EQ(s["steps"], 4);
  EXPECT_EQ(s["validation_errors"], 0) << slurp(dir / "run.err");
}

TEST_F(EmbedRendererDemo, BadInputIsAClearError) {
  EXPECT_NE(run("--image " + (dir / "missing.png").string() + " --out " + (dir / "a").string(), "image"), 0);
  EXPECT_NE(slurp(dir / "image.err").find("missing.png"), std::string::npos) << slurp(dir / "image.err");
  const fs::path file = dir / "file";
  std::ofstream(file) << "x";
  EXPECT_NE(run("--out " + (file / "run").string(), "out"), 0);
  EXPECT_NE(slurp(dir / "out.err").find("cannot create the run folder"), std::string::npos) << slurp(dir / "out.err");
  EXPECT_NE(run("--frames 0", "frames"), 0);
  EXPECT_NE(slurp(dir / "frames.err").find("--frames"), std::string::npos) << slurp(dir / "frames.err");
}

}  // namespace
