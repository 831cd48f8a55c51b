// embed_renderer — vkgrad inside a host renderer. The host (host_device.cpp) creates its own
// Vulkan instance and device with vkgrad's requirements merged in; vkgrad adopts them. Each
// frame the host draws, with its own graphics pipeline, the training picture and a neural field
// evaluated by the exported GLSL in its fragment shader (field_pass.cpp), and records a few
// training steps of that field into its own command buffer (Trainer::record_step) on its
// training queue: a second queue where the device has one, else the graphics queue under the
// host's lock. Training reads its data straight from the host's buffers (shared feeds); the
// frame shows the network as trained up to the frame before. PNGs of the first, middle and last
// frames, PSNR per frame, and GPU time per frame split into render, inference and training.
#include "field.hpp"
#include "field_pass.hpp"
#include "host_device.hpp"
#include "timed_commands.hpp"
#include "image.hpp"

#include "vkgrad/error.hpp"
#include "vkgrad/io/glsl_export.hpp"
#include "vkgrad/train/trainer.hpp"
#include "vkgrad/vk/context.hpp"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <vkgrad_cli/checks.hpp>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>

namespace {

using namespace vkgrad;
namespace fs = std::filesystem;

struct Options {
  uint32_t frames = 40;
  uint32_t steps_per_frame = 4;
  std::string image;  // default: field::procedural_picture
  std::string queue = "auto";
  std::string precision = "mixed";
  float lr = 1e-3f, table_lr = 1e-2f;
  uint64_t seed = 0;
  std::string out;
  bool json = false;
};

int run(const Options& o) {
  const bool validation = [] {
    const char* v = std::getenv("VKGRAD_VALIDATION");
    return v && std::strcmp(v, "0") != 0;
  }();
  const fs::path run_dir = o.out.empty() ? fs::path("runs") / "embed_renderer" : fs::path(o.out);
  std::error_code ec;
  fs::create_directories(run_dir, ec);
  if (ec) throw Error("cannot create the run folder " + run_dir.string() + ": " + ec.message(), "pass a writable --out");

  const uint32_t res = field::kResolution, pixels = res * res;
  const Image target{res, res, o.image.empty() ? field::procedural_picture(res) : load_square(o.image, res).rgb};
  const auto graph = field::model();

  HostDevice host(o.queue == "own" ? QueueChoice::Own : o.queue == "shared" ? QueueChoice::Shared : QueueChoice::Auto,
                  validation);
  const uint32_t families[2] = {host.graphics_family, host.train_family};
  // The host's buffers: coordinates and picture as the trainer's shared feeds (the picture is
  // also what the frame's left square shows), and the exported weights the fragment shader reads.
  HostBuffer xy = host.create_buffer(VkDeviceSize(pixels) * 2 * 4, VK_BUFFER_USAGE_STORAGE_BUFFER_BIT, {&families[1], 1});
  HostBuffer rgb = host.create_buffer(VkDeviceSize(pixels) * 3 * 4, VK_BUFFER_USAGE_STORAGE_BUFFER_BIT, families);
  const auto coords = field::pixel_centres(res);
  std::memcpy(xy.mapped, coords.data(), xy.size);
  std::memcpy(rgb.mapped, target.rgb.data(), rgb.size);
  const bool fp16 = host.fp16_storage;
  const auto exported_size = io::export_glsl(graph, field::zero_state(graph), {.fp16 = fp16}).weights.size();
  HostBuffer weights = host.create_buffer(exported_size, VK_BUFFER_USAGE_STORAGE_BUFFER_BIT, {&families[0], 1});

  int status = 0;
  {
    vk::Context ctx(host.adopt_info());
    train::TrainerCreateInfo info;
    info.batch_size = pixels;
    info.precision = o.precision == "fp32" ? train::Precision::Fp32 : train::Precision::Mixed;
    info.optimizer = train::OptimizerConfig::adam(o.lr);
    info.optimizer.groups.push_back({.prefix = "encoding.", .lr = o.table_lr, .beta2 = 0.99f, .eps = 1e-15f});
    info.seed = o.seed;
    info.shared_feeds = {{"xy", xy.buffer, 0, xy.size, train::FeedType::F32},
                         {"rgb", rgb.buffer, 0, rgb.size, train::FeedType::F32}};
    train::Trainer trainer(ctx, graph, info);
    FieldPass pass(host, res, fp16, weights, rgb);
    TimedCommands train_cmd(host, host.train_family, 2);
    const VkSemaphore rendered = host.create_timeline(), trained = host.create_timeline();

    const char* queue_text = host.shared_queue ? "the graphics queue (shared, locked)"
                             : host.train_family == host.graphics_family ? "a second graphics-family queue"
                                                                          : "a queue of its own family";
    std::fprintf(stderr, "embed_renderer: %s on %s; training on %s, %s precision, %u steps per frame; run folder %s\n",
                 o.image.empty() ? "procedural picture" : o.image.c_str(), host.properties.deviceName, queue_text,
                 o.precision.c_str(), o.steps_per_frame, run_dir.string().c_str());
    nlohmann::json frames = nlohmann::json::array();
    std::vector<std::string> pngs;
    double sums[3] = {};
    uint64_t steps = 0;
    float loss = 0;
    for (uint32_t f = 0; f < o.frames; ++f) {
      // The weights the frame draws with: the network as trained so far.
      const auto exported = io::export_glsl(graph, trainer.save_state(), {.fp16 = fp16});
      std::memcpy(weights.mapped, exported.weights.data(), exported.weights.size());
      host.submit(host.graphics_queue, pass.record(), rendered, f + 1);
      const bool train = f + 1 < o.frames;
      if (train) {
        train_cmd.begin();
        for (uint32_t s = 0; s < o.steps_per_frame; ++s) trainer.record_step(train_cmd.cmd, pixels);
        train_cmd.stamp(1);
        train_cmd.end();
        host.submit(host.train_queue, train_cmd.cmd, trained, f + 1);
      }
      host.wait(rendered, f + 1);
      const FrameTimes t = pass.times();
      const Image drawn{res, res, pass.network_pixels()};
      const double db = field::psnr(drawn.rgb, target.rgb);
      double train_ms = 0;
      if (train) {
        host.wait(trained, f + 1);
        train_ms = train_cmd.ms(0, 1);
        const auto m = trainer.host_step_metrics();
        steps = m.steps;
        loss = m.loss;
      }
      sums[0] += t.render_ms, sums[1] += t.inference_ms, sums[2] += train_ms;
      frames.push_back({{"frame", f}, {"steps_before", f * o.steps_per_frame}, {"psnr", db},
                        {"render_ms", t.render_ms}, {"inference_ms", t.inference_ms}, {"train_ms", train_ms}});
      if (f == 0 || f == o.frames / 2 || f + 1 == o.frames) {
        const fs::path png = run_dir / ("frame" + std::to_string(f) + ".png");
        if (!write_side_by_side(png, {&target, &drawn}))
          throw Error("cannot write " + png.string(), "pass a writable --out");
        pngs.push_back(png.string());
      }
      std::fprintf(stderr, "\rframe %3u/%u  steps %4u  PSNR %6.2f dB  render %.2f ms  inference %.2f ms  train %.2f ms   ",
                   f + 1, o.frames, f * o.steps_per_frame, db, t.render_ms, t.inference_ms, train_ms);
    }
    std::fprintf(stderr, "\n");
    vkDestroySemaphore(host.device, rendered, nullptr);
    vkDestroySemaphore(host.device, trained, nullptr);
    const double first = frames.front()["psnr"], last = frames.back()["psnr"];
    const double n = o.frames, trained_frames = o.frames > 1 ? o.frames - 1 : 1;
    std::fprintf(stderr,
                 "PSNR %.2f dB at the first frame, %.2f dB at the last (%llu steps, loss %.5f); per frame: render %.2f ms, "
                 "inference %.2f ms, train %.2f ms of GPU time; frames %s\n",
                 first, last, (unsigned long long)steps, loss, sums[0] / n, sums[1] / n, sums[2] / trained_frames,
                 (run_dir / "frame*.png").string().c_str());
    if (host.validation_errors() > 0) {
      std::fprintf(stderr, "embed_renderer: %u validation errors (see above)\n", host.validation_errors());
      status = 1;
    }
    if (o.json) {
      nlohmann::json j = {{"device", host.properties.deviceName},
                          {"queue", host.shared_queue ? "shared" : "own"},
                          {"precision", o.precision},
                          {"steps_per_frame", o.steps_per_frame},
                          {"steps", steps},
                          {"frames", frames},
                          {"first_psnr", first},
                          {"last_psnr", last},
                          {"mean_render_ms", sums[0] / n},
                          {"mean_inference_ms", sums[1] / n},
                          {"mean_train_ms", sums[2] / trained_frames},
                          {"pngs", pngs},
                          {"validation", validation},
                          {"validation_errors", host.validation_errors()},
                          {"validation_warnings", host.validation_warnings()}};
      std::cout << j.dump(2) << "\n";
    }
    check(vkDeviceWaitIdle(host.device), "vkDeviceWaitIdle");
  }  // vkgrad's objects go before the host's buffers and device
  host.destroy(weights);
  host.destroy(rgb);
  host.destroy(xy);
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{"embed_renderer: vkgrad trains a neural field inside a host renderer's frames"};
  app.add_option("--frames", o.frames, "frames to draw (training runs between them)")->check(CLI::Range(1u, 100000u));
  app.add_option("--steps-per-frame", o.steps_per_frame, "training steps recorded per frame")
      ->check(CLI::Range(1u, 1000u));
  app.add_option("--image", o.image, "a PNG, JPEG or PNM picture to fit (default: a procedural one)");
  app.add_option("--queue", o.queue, "auto (a second queue where there is one), own or shared")
      ->check(CLI::IsMember({"auto", "own", "shared"}));
  app.add_option("--precision", o.precision, "mixed or fp32")->check(CLI::IsMember({"mixed", "fp32"}));
  app.add_option("--lr", o.lr, "Adam learning rate of the MLP")->check(cli::finite_range(0, 1e30));
  app.add_option("--table-lr", o.table_lr, "Adam learning rate of the hash table (betas 0.9, 0.99; eps 1e-15)")
      ->check(cli::finite_range(0, 1e30));
  app.add_option("--seed", o.seed, "initialization seed");
  app.add_option("--out", o.out, "run folder (default runs/embed_renderer)");
  app.add_flag("--json", o.json, "one JSON summary on stdout");
  CLI11_PARSE(app, argc, argv);
  try {
    return run(o);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "embed_renderer: %s\n", e.what());
    return 1;
  }
}
