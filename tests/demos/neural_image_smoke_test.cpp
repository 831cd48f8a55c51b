// A short neural_image run on a small synthetic picture, with the validation layer on: the PSNR
// climbs (with either encoding), the JSON summary is complete, the reconstruction PNG and the
// PSNR plot are written; and an unreadable picture is a clear error.
#include "program_run.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <sys/wait.h>

#ifndef NEURAL_IMAGE_BIN
#error "NEURAL_IMAGE_BIN must name the demo program"
#endif

namespace {

namespace fs = std::filesystem;
using vkgrad::test::slurp;

int run(const std::string& args, const fs::path& dir, const std::string& tag) {
  return vkgrad::test::run_program(NEURAL_IMAGE_BIN, args, dir, tag);
}

// A 40×40 binary PPM (stb_image reads PNM): smooth colour ramps and a bright disc.
void write_picture(const fs::path& path) {
  std::ofstream out(path, std::ios::binary);
  out << "P6\n40 40\n255\n";
  for (int i = 0; i < 40; ++i)
    for (int j = 0; j < 40; ++j) {
      const bool disc = (i - 20) * (i - 20) + (j - 14) * (j - 14) < 64;
      const unsigned char px[3] = {static_cast<unsigned char>(j * 6), static_cast<unsigned char>(i * 6),
                                   static_cast<unsigned char>(disc ? 250 : 40)};
      out.write(reinterpret_cast<const char*>(px), 3);
    }
}

TEST(NeuralImageDemo, ShortRunLearnsThePicture) {
  std::random_device rd;
  const fs::path dir = fs::temp_directory_path() / ("vkgrad-ni-" + std::to_string(rd()));
  fs::create_directories(dir);
  write_picture(dir / "picture.ppm");
  const fs::path out = dir / "run";
  ASSERT_EQ(run("--image " + (dir / "picture.ppm").string() + " --res 20 --steps 100 --frequencies 32 --sigma 3 " +
                    "--lr 5e-3 --snapshots 50,100 --json --out " + out.string(),
                dir, "run"),
            0)
      << slurp(dir / "run.err");
  const auto summary = nlohmann::json::parse(slurp(dir / "run.json"));
  for (const char* key : {"psnr", "final_psnr", "steps_per_s", "pixels_per_s", "seconds", "snapshots", "plot"})
    EXPECT_TRUE(summary.contains(key)) << key;
  const auto& curve = summary["psnr"];
  ASSERT_GE(curve.size(), 3u);
  EXPECT_EQ(curve.front()["step"], 1);
  EXPECT_EQ(curve.back()["step"], 100);
  // From the untrained network's ~10 dB, a learned picture gains well over 6 dB.
  EXPECT_GT(curve.back()["psnr"].get<double>(), curve.front()["psnr"].get<double>() + 6.0) << curve.dump();
  EXPECT_EQ(summary["snapshots"].size(), 2u);
  for (const char* f : {"step50.png", "step100.png", "psnr.png", "psnr.dat"}) EXPECT_TRUE(fs::exists(out / f)) << f;
  fs::remove_all(dir);
}

// The hash encoding (a small table: 4 levels from 4 to 20, hashed past 2^8 vertices) learns the
// same picture, in mixed precision with its table in Instant-NGP's parameter group.
TEST(NeuralImageDemo, HashGridLearnsThePicture) {
  std::random_device rd;
  const fs::path dir = fs::temp_directory_path() / ("vkgrad-ni-" + std::to_string(rd()));
  fs::create_directories(dir);
  write_picture(dir / "picture.ppm");
  const fs::path out = dir / "run";
  ASSERT_EQ(run("--image " + (dir / "picture.ppm").string() + " --res 20 --steps 60 --encoding hashgrid --levels 4 " +
                    "--log2-table 8 --base 4 --snapshots 60 --json --out " + out.string(),
                dir, "run"),
            0)
      << slurp(dir / "run.err");
  const auto summary = nlohmann::json::parse(slurp(dir / "run.json"));
  EXPECT_EQ(summary["encoding"], "hashgrid");
  const auto& curve = summary["psnr"];
  ASSERT_GE(curve.size(), 3u);
  EXPECT_GT(curve.back()["psnr"].get<double>(), curve.front()["psnr"].get<double>() + 6.0) << curve.dump();
  EXPECT_NE(slurp(dir / "run.err").find("4 levels"), std::string::npos);
  EXPECT_TRUE(fs::exists(out / "step60.png"));
  fs::remove_all(dir);
}

TEST(NeuralImageDemo, AnUnreadablePictureIsAClearError) {
  std::random_device rd;
  const fs::path dir = fs::temp_directory_path() / ("vkgrad-ni-" + std::to_string(rd()));
  fs::create_directories(dir);
  std::ofstream(dir / "not-a-picture.png") << "hello";
  const int rc = run("--image " + (dir / "not-a-picture.png").string() + " --steps 1", dir, "bad");
  ASSERT_NE(rc, -1);
  EXPECT_EQ(WEXITSTATUS(rc), 1);
  const std::string err = slurp(dir / "bad.err");
  EXPECT_NE(err.find("cannot read the picture"), std::string::npos) << err;
  EXPECT_NE(err.find("--image"), std::string::npos) << err;
  fs::remove_all(dir);
}

}  // namespace
