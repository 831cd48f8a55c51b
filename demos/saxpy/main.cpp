// saxpy: the smoke demo until the Fashion-MNIST training demo lands. Runs y = a·x + y and an
// fp32 sum over every storage variant the device offers, checks them against the CPU and
// prints the GPU time and bandwidth of each. `--json` writes one JSON document to stdout.
#include "vkgrad/error.hpp"
#include "vkgrad/kernels/axpy.hpp"
#include "vkgrad/kernels/reduce.hpp"
#include "vkgrad/vk/buffer.hpp"
#include "vkgrad/vk/context.hpp"

#include <CLI/CLI.hpp>
#include <glm/gtc/packing.hpp>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <memory>
#include <random>

namespace {

using namespace vkgrad;
using kernels::Storage;

std::vector<std::byte> encode(Storage s, const std::vector<float>& v) {
  std::vector<std::byte> out(kernels::storage_bytes(s, v.size()));
  for (size_t i = 0; i < v.size(); ++i) {
    if (s == Storage::F32) {
      std::memcpy(out.data() + 4 * i, &v[i], 4);
    } else {
      const uint16_t h = glm::packHalf1x16(v[i]);
      std::memcpy(out.data() + 2 * i, &h, 2);
    }
  }
  return out;
}

float decode_one(Storage s, const std::vector<std::byte>& bytes, size_t i) {
  if (s == Storage::F32) {
    float f;
    std::memcpy(&f, bytes.data() + 4 * i, 4);
    return f;
  }
  uint16_t h;
  std::memcpy(&h, bytes.data() + 2 * i, 2);
  return glm::unpackHalf1x16(h);
}

float round_to(Storage s, float v) { return s == Storage::F32 ? v : glm::unpackHalf1x16(glm::packHalf1x16(v)); }

nlohmann::json run_variant(vk::Context& ctx, Storage s, uint32_t n, int reps) {
  std::mt19937 rng(42);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> x(n), y(n);
  for (uint32_t i = 0; i < n; ++i) x[i] = round_to(s, dist(rng)), y[i] = round_to(s, dist(rng));
  const float a = 0.5f;
  const auto xb = encode(s, x), yb = encode(s, y);
  vk::Buffer bx(ctx, {.size = xb.size(), .name = "x"});
  vk::Buffer by(ctx, {.size = yb.size(), .name = "y"});
  const uint32_t groups = kernels::ReduceSum::partial_count(n);
  vk::Buffer partials(ctx, {.size = 4ull * groups, .name = "partials"});
  vk::Buffer sum(ctx, {.size = 4, .name = "sum"});
  vk::upload(ctx, bx, xb.data(), xb.size());
  vk::upload(ctx, by, yb.data(), yb.size());
  const kernels::Axpy axpy(ctx, s);
  const kernels::ReduceSum reduce(ctx, s);

  std::unique_ptr<vk::Recorder> rec;  // kept alive until its timestamps are read
  ctx.run_now([&](VkCommandBuffer cmd) {
    rec = std::make_unique<vk::Recorder>(ctx, cmd, vk::RecorderOptions{.timestamps = true});
    for (int r = 0; r < reps; ++r) axpy.record(*rec, bx.range(0, xb.size()), by.range(0, yb.size()), n, a);
    reduce.record(*rec, by.range(0, yb.size()), n, partials.range(), sum.range());
  });
  double axpy_ms = 0, reduce_ms = 0;
  int timed_axpy = 0;
  for (const auto& t : rec->timings()) {
    if (t.label == "axpy" && timed_axpy++ > 0) axpy_ms += t.ms;  // the first run includes compile
    if (t.label.rfind("reduce", 0) == 0) reduce_ms += t.ms;
  }
  axpy_ms /= std::max(1, reps - 1);

  std::vector<std::byte> out(yb.size());
  vk::download(ctx, by, out.data(), out.size());
  float device_sum = 0;
  vk::download(ctx, sum, &device_sum, 4);
  double max_err = 0, ref_sum = 0, abs_sum = 0;
  for (uint32_t i = 0; i < n; ++i) {
    double ref = y[i];
    for (int r = 0; r < reps; ++r) ref = round_to(s, float(double(a) * x[i] + ref));
    max_err = std::max(max_err, std::fabs(decode_one(s, out, i) - ref));
    ref_sum += decode_one(s, out, i);
    abs_sum += std::fabs(decode_one(s, out, i));
  }
  const double bytes = 3.0 * double(kernels::storage_bytes(s, n));  // read x, read y, write y
  return {{"storage", kernels::storage_name(s)},
          {"n", n},
          {"axpy_ms", axpy_ms},
          {"axpy_gb_per_s", axpy_ms > 0 ? bytes / (axpy_ms * 1e6) : 0.0},
          {"axpy_max_abs_err", max_err},
          {"sum_ms", reduce_ms},
          {"sum_rel_err", std::fabs(device_sum - ref_sum) / std::max(abs_sum, 1e-30)}};
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"saxpy: vkgrad's smoke demo (the Fashion-MNIST training demo replaces it)"};
  uint32_t n = 1u << 22;
  int reps = 5;
  bool as_json = false;
  app.add_option("--n", n, "elements")->check(CLI::Range(1u, 1u << 28));
  app.add_option("--reps", reps, "axpy repetitions (the first is not timed)")->check(CLI::Range(2, 1000));
  app.add_flag("--json", as_json, "one JSON document on stdout");
  CLI11_PARSE(app, argc, argv);
  try {
    std::fprintf(stderr, "saxpy: vkgrad's smoke demo; the Fashion-MNIST training demo will take its place\n");
    vk::Context ctx;
    std::fprintf(stderr, "device: %s\n", ctx.caps().name.c_str());
    std::vector<Storage> variants = {Storage::F32, Storage::F16x2};
    if (ctx.caps().enabled(vk::Feature::Storage16)) variants.insert(variants.begin() + 1, Storage::F16);
    nlohmann::json results = nlohmann::json::array();
    bool ok = true;
    for (Storage s : variants) {
      std::fprintf(stderr, "  %-6s n=%u ...", std::string(kernels::storage_name(s)).c_str(), n);
      const auto r = run_variant(ctx, s, n, reps);
      // One rounding of the storage format per repetition bounds the error.
      const double bound = (s == Storage::F32 ? 1e-6 : 2e-3) * reps * 4;
      const bool good = r["axpy_max_abs_err"].get<double>() <= bound && r["sum_rel_err"].get<double>() < 1e-4;
      ok = ok && good;
      std::fprintf(stderr, " axpy %.3f ms (%.1f GB/s), max error %.2g; sum %.3f ms, rel error %.2g %s\n",
                   r["axpy_ms"].get<double>(), r["axpy_gb_per_s"].get<double>(), r["axpy_max_abs_err"].get<double>(),
                   r["sum_ms"].get<double>(), r["sum_rel_err"].get<double>(), good ? "ok" : "WRONG");
      results.push_back(r);
    }
    if (as_json) std::cout << nlohmann::json{{"device", ctx.caps().name}, {"ok", ok}, {"results", results}}.dump(2) << '\n';
    return ok ? 0 : 1;
  } catch (const vkgrad::Error& e) {
    std::fprintf(stderr, "saxpy: %s\n", e.what());
    return 1;
  }
}
