// neural_image: learns a picture as a function f(x, y) → RGB — the pixel-centre coordinates
// through an input encoding, an MLP of three 128-wide ReLU layers, a sigmoid — with MSE over
// the whole picture each step (Adam). Prints the PSNR as it trains, and leaves a run folder
// with target | reconstruction PNGs at a few steps, the PSNR curve (psnr.png, psnr.dat) and,
// with --json, a summary on stdout.
#include "image.hpp"
#include "vkgrad/error.hpp"
#include "vkgrad/kernels/hash_grid.hpp"
#include "vkgrad/train/trainer.hpp"
#include "vkgrad/vk/context.hpp"

#include <CLI/CLI.hpp>
#include <vkgrad_cli/checks.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>

namespace {

using namespace vkgrad;
namespace fs = std::filesystem;

struct Options {
  std::string image;  // default: the astronaut photograph that tools/dev fetches
  uint32_t res = 128;
  std::string encoding = "gauss";
  uint32_t frequencies = 256;
  float sigma = 10.0f;
  graph::attr::HashGrid grid;  // growth: from base to the training resolution
  float table_lr = 1e-2f;
  uint32_t steps = 500;
  float lr = 1e-3f;
  std::string precision = "mixed";
  uint64_t seed = 0;
  std::vector<uint32_t> snapshots{100, 250, 500};
  std::string out;
  bool json = false;
};

fs::path default_image() {
  const char* home = std::getenv("HOME");
  return fs::path(home ? home : ".") / ".cache/vkgrad/data/astronaut.png";
}

// The PyTorch twin: encoding.B (a buffer) or encoding.params (the hash table), layers =
// nn.ModuleList([Linear(512 or levels·features, 128), Linear(128, 128), Linear(128, 128),
// Linear(128, 3)]) with ReLU between, sigmoid at the end.
graph::Graph model(const Options& o) {
  graph::Graph g;
  const auto xy = g.input("xy", {2});
  auto h = o.encoding == "gauss" ? g.fourier_features(xy, o.frequencies, o.sigma, "encoding")
                                 : g.hash_grid(xy, "encoding", o.grid);
  for (int l = 0; l < 3; ++l) h = g.linear(h, 128, "layers." + std::to_string(l), graph::Activation::Relu);
  g.mse(g.sigmoid(g.linear(h, 3, "layers.3")), g.input("rgb", {3}));
  return g;
}

double psnr(double mse) { return -10.0 * std::log10(std::max(mse, 1e-20)); }

bool plot_psnr(const std::vector<std::pair<uint64_t, double>>& curve, const fs::path& dir, const std::string& title) {
  const auto dat = dir / "psnr.dat", script = dir / "psnr.gp", png = dir / "psnr.png";
  {
    std::ofstream d(dat);
    d << "# step psnr_db\n";
    for (const auto& [step, db] : curve) d << step << ' ' << db << '\n';
    std::ofstream g(script);
    g << "set terminal pngcairo size 900,500 font 'sans,10' noenhanced\nset output '" << png.string() << "'\n"
      << "set title '" << title << "'\nset xlabel 'step'\nset ylabel 'PSNR (dB)'\nset grid\nset key bottom right\n"
      << "plot '" << dat.string() << "' using 1:2 with lines title 'PSNR', 35 with lines dashtype 2 title '35 dB'\n";
  }
  return std::system(("gnuplot '" + script.string() + "' 2>/dev/null").c_str()) == 0 && fs::exists(png);
}

std::string encoding_summary(const Options& o) {
  char text[160];
  if (o.encoding == "gauss")
    std::snprintf(text, sizeof text, "gauss encoding (%u frequencies, σ %g)", o.frequencies, double(o.sigma));
  else
    std::snprintf(text, sizeof text, "hashgrid encoding (%u levels × %u features, table 2^%u, resolution %u to %u)",
                  o.grid.levels, o.grid.features, o.grid.log2_table_size, o.grid.base_resolution, o.res);
  return text;
}

int run(Options o) {
  const fs::path image_path = o.image.empty() ? default_image() : fs::path(o.image);
  if (o.image.empty() && !fs::exists(image_path))
    throw Error("no picture at " + image_path.string(),
                "run through `tools/dev run neural_image`, which fetches it, or pass --image PATH");
  const Image target = load_square(image_path, o.res);
  const uint32_t pixels = o.res * o.res;
  std::vector<float> xy(size_t(pixels) * 2);
  for (uint32_t i = 0; i < o.res; ++i)
    for (uint32_t j = 0; j < o.res; ++j) {
      xy[(size_t(i) * o.res + j) * 2] = (float(j) + 0.5f) / float(o.res);
      xy[(size_t(i) * o.res + j) * 2 + 1] = (float(i) + 0.5f) / float(o.res);
    }

  const fs::path run_dir = o.out.empty() ? fs::path("runs") / "neural_image" : fs::path(o.out);
  fs::create_directories(run_dir);
  vk::Context ctx;
  train::TrainerCreateInfo info;
  info.batch_size = pixels;  // the whole picture every step
  info.precision = o.precision == "fp32" ? train::Precision::Fp32 : train::Precision::Mixed;
  info.optimizer = train::OptimizerConfig::adam(o.lr);
  if (o.encoding == "hashgrid") {
    if (o.grid.base_resolution > o.res)
      throw Error("--base " + std::to_string(o.grid.base_resolution) + " is finer than --res " + std::to_string(o.res),
                  "use a base resolution at most the training resolution");
    o.grid.growth = kernels::hash_grid_growth(o.grid.base_resolution, o.res, o.grid.levels);
    // Instant-NGP's table optimizer: a high rate, a short second-moment memory, a tiny eps.
    info.optimizer.groups.push_back({.prefix = "encoding.", .lr = o.table_lr, .beta2 = 0.99f, .eps = 1e-15f});
  }
  info.seed = o.seed;
  info.ring_slots = 3;
  train::Trainer trainer(ctx, model(o), info);
  const train::Batch batch{pixels, {{xy}, {target.rgb}}};
  std::fprintf(stderr, "neural_image: %s, %u×%u, %s, %s precision on %s; run folder %s\n",
               image_path.string().c_str(), o.res, o.res, encoding_summary(o).c_str(), o.precision.c_str(),
               ctx.caps().name.c_str(), run_dir.string().c_str());

  const std::set<uint32_t> snapshots(o.snapshots.begin(), o.snapshots.end());
  std::vector<std::pair<uint64_t, double>> curve;  // step (1-based), PSNR of the step's forward
  std::vector<std::string> pngs;
  std::optional<uint64_t> reached;
  double reached_seconds = 0;  // training time when the host saw it (snapshots excluded)
  double train_seconds = 0;
  const auto t0 = std::chrono::steady_clock::now();
  const auto absorb = [&] {
    for (const auto& m : trainer.take_history()) {
      curve.emplace_back(m.steps, psnr(m.loss));
      if (!reached && curve.back().second >= 35.0) {
        reached = m.steps;
        reached_seconds = train_seconds + std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      }
    }
  };
  for (uint32_t step = 1; step <= o.steps; ++step) {
    trainer.step(batch);
    absorb();
    if (step % 25 == 0 || step == o.steps) {
      const auto m = trainer.metrics(train::Wait::Yes);
      absorb();
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      std::fprintf(stderr, "\rstep %4u/%u  PSNR %6.2f dB  %5.2f steps/s   ", step, o.steps, psnr(m.loss), step / s);
    }
    if (snapshots.contains(step)) {
      const auto t_snap = std::chrono::steady_clock::now();
      Image recon{o.res, o.res, trainer.predict(batch)};
      const fs::path png = run_dir / ("step" + std::to_string(step) + ".png");
      if (write_side_by_side(png, {&target, &recon})) pngs.push_back(png.string());
      train_seconds -= std::chrono::duration<double>(std::chrono::steady_clock::now() - t_snap).count();
    }
  }
  (void)trainer.metrics(train::Wait::Yes);
  absorb();
  train_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::fprintf(stderr, "\n");
  const bool plotted = plot_psnr(curve, run_dir, "vkgrad neural_image: " + o.encoding + " encoding, " + o.precision);
  const double final_db = curve.empty() ? 0.0 : curve.back().second;
  char when[96] = "not reached";
  if (reached) std::snprintf(when, sizeof when, "first at step %llu, %.1f s", (unsigned long long)*reached, reached_seconds);
  std::fprintf(stderr, "PSNR %.2f dB after %u steps in %.1f s (%.2f steps/s); 35 dB %s; run folder %s%s\n", final_db,
               o.steps, train_seconds, o.steps / train_seconds, when, run_dir.string().c_str(),
               plotted ? "" : " (no plot: gnuplot failed)");
  if (o.json) {
    nlohmann::json points = nlohmann::json::array();
    for (const auto& [step, db] : curve)
      if (step % 25 == 0 || step == o.steps || step == 1) points.push_back({{"step", step}, {"psnr", db}});
    std::cout << nlohmann::json{{"psnr", points},
                                {"final_psnr", final_db},
                                {"first_step_35db", reached ? nlohmann::json(*reached) : nlohmann::json(nullptr)},
                                {"seconds_to_35db", reached ? nlohmann::json(reached_seconds) : nlohmann::json(nullptr)},
                                {"steps", o.steps},
                                {"seconds", train_seconds},
                                {"steps_per_s", o.steps / train_seconds},
                                {"pixels_per_s", double(o.steps) * pixels / train_seconds},
                                {"encoding", o.encoding},
                                {"precision", o.precision},
                                {"resolution", o.res},
                                {"device", ctx.caps().name},
                                {"snapshots", pngs},
                                {"plot", plotted ? (run_dir / "psnr.png").string() : ""}}
                     .dump(2)
              << '\n';
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"neural_image: learn a picture as f(x, y) → RGB with vkgrad"};
  Options o;
  app.add_option("--image", o.image, "a PNG, JPEG or PNM picture (default: the astronaut photograph)");
  app.add_option("--res", o.res, "training resolution: the centre square box-averaged to res × res")
      ->check(CLI::Range(2u, 2048u));
  app.add_option("--encoding", o.encoding, "gauss (Fourier features) or hashgrid (multi-resolution hash encoding)")
      ->check(CLI::IsMember({"gauss", "hashgrid"}));
  app.add_option("--frequencies", o.frequencies, "Fourier features: frequencies (2× as many features)")
      ->check(CLI::Range(1u, 4096u));
  app.add_option("--sigma", o.sigma, "Fourier features: standard deviation of the frequencies")
      ->check(cli::finite_range(1e-6, 1e4));
  app.add_option("--levels", o.grid.levels, "hash grid: levels (resolutions from --base to --res)")
      ->check(CLI::Range(1u, 64u));
  app.add_option("--features", o.grid.features, "hash grid: features per level")->check(CLI::Range(1u, 8u));
  app.add_option("--log2-table", o.grid.log2_table_size, "hash grid: log2 of the entries per level")
      ->check(CLI::Range(1u, 24u));
  app.add_option("--base", o.grid.base_resolution, "hash grid: coarsest resolution")->check(CLI::Range(1u, 2048u));
  app.add_option("--table-lr", o.table_lr, "hash grid: the table's Adam learning rate (betas 0.9, 0.99; eps 1e-15)")
      ->check(cli::finite_range(0, 1e30));
  app.add_option("--steps", o.steps, "optimizer steps (one per whole picture)")->check(CLI::Range(1u, 1000000u));
  app.add_option("--lr", o.lr, "Adam learning rate")->check(cli::finite_range(0, 1e30));
  app.add_option("--precision", o.precision, "mixed or fp32")->check(CLI::IsMember({"mixed", "fp32"}));
  app.add_option("--seed", o.seed, "initialization seed");
  app.add_option("--snapshots", o.snapshots, "steps at which to write target | reconstruction PNGs")->delimiter(',');
  app.add_option("--out", o.out, "run folder (default runs/neural_image)");
  app.add_flag("--json", o.json, "one JSON summary on stdout");
  CLI11_PARSE(app, argc, argv);
  try {
    return run(o);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "neural_image: %s\n", e.what());
    return 1;
  }
}
