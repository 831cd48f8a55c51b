#include "gemm_bench.hpp"

#include "vkgrad/error.hpp"
#include "vkgrad/kernels/gemm.hpp"
#include "vkgrad/vk/buffer.hpp"
#include "vkgrad/vk/context.hpp"


#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <random>

namespace vkgrad::bench {
namespace {

using kernels::ElemType;
using kernels::GemmVariant;

// Values exactly representable in fp16, so that fp16 and fp32 variants multiply the same
// numbers and share one reference.
std::vector<float> fp16_exact_values(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> v(n);
  for (float& x : v) x = kernels::half_value(kernels::half_bits(dist(rng)));
  return v;
}

std::vector<std::byte> encode(const std::vector<float>& v, ElemType t) {
  std::vector<std::byte> out(t == ElemType::F32 ? 4 * v.size() : 4 * ((v.size() + 1) / 2));
  for (size_t i = 0; i < v.size(); ++i) {
    if (t == ElemType::F32) {
      std::memcpy(out.data() + 4 * i, &v[i], 4);
    } else {
      const uint16_t h = kernels::half_bits(v[i]);
      std::memcpy(out.data() + 2 * i, &h, 2);
    }
  }
  return out;
}

// C = A·B in float64, row-major s×s, and Σ|a||b| per element (the error bound's magnitude).
void reference(uint32_t s, const std::vector<float>& a, const std::vector<float>& b, std::vector<double>& c,
               std::vector<double>& mag) {
  c.assign(size_t(s) * s, 0.0);
  mag.assign(size_t(s) * s, 0.0);
  for (uint32_t i = 0; i < s; ++i)
    for (uint32_t k = 0; k < s; ++k) {
      const double av = a[size_t(i) * s + k];
      const float* brow = &b[size_t(k) * s];
      double* crow = &c[size_t(i) * s];
      double* mrow = &mag[size_t(i) * s];
      for (uint32_t j = 0; j < s; ++j) {
        crow[j] += av * brow[j];
        mrow[j] += std::fabs(av * brow[j]);
      }
    }
}

struct Row {
  std::string variant;
  std::string chosen;
  std::string preset;
  double ms = 0;
  double gflops = 0;
  std::optional<double> max_rel_err, err_bound;
};

Row run_one(vk::Context& ctx, uint32_t s, std::optional<GemmVariant> forced, const std::vector<float>& a,
            const std::vector<float>& b, const std::vector<double>* ref, const std::vector<double>* mag,
            double seconds_per_row) {
  const auto choice_for_types = [&](ElemType t) {
    return kernels::select_gemm(ctx.caps(), s, s, t, t, forced);
  };
  // The default row uses what a training step would: fp16 operands.
  const ElemType in = forced == GemmVariant::Fp32 ? ElemType::F32 : ElemType::F16;
  const kernels::GemmChoice choice = choice_for_types(in);
  const auto ab = encode(a, in), bb = encode(b, in);
  vk::Buffer buf_a(ctx, {.size = ab.size(), .name = "A"});
  vk::Buffer buf_b(ctx, {.size = bb.size(), .name = "B"});
  vk::Buffer buf_c(ctx, {.size = 4ull * s * s, .name = "C"});
  vk::upload(ctx, buf_a, ab.data(), ab.size());
  vk::upload(ctx, buf_b, bb.data(), bb.size());
  kernels::GemmDesc d;
  d.m = d.n = d.k = s;
  d.a = {buf_a.range(), in, s, 0, false};
  d.b = {buf_b.range(), in, s, 0, false};
  d.c = {buf_c.range(), ElemType::F32, s, 0, false};
  const kernels::Gemm gemm(ctx);

  const auto timed = [&](uint32_t reps) {
    std::unique_ptr<vk::Recorder> rec;
    ctx.run_now([&](VkCommandBuffer cmd) {
      rec = std::make_unique<vk::Recorder>(ctx, cmd, vk::RecorderOptions{.timestamps = true});
      for (uint32_t r = 0; r < reps; ++r) gemm.record(*rec, d, choice.variant);
    });
    std::vector<double> ms;
    for (const auto& t : rec->timings()) ms.push_back(t.ms);
    return ms;
  };
  // Warm-up: on lavapipe the first dispatch of a pipeline compiles it with LLVM.
  const double first = timed(1).at(0);
  const uint32_t reps = uint32_t(std::clamp(seconds_per_row * 1e3 / std::max(first, 1e-3), 2.0, 50.0));
  auto ms = timed(reps);
  std::sort(ms.begin(), ms.end());
  Row row;
  row.variant = forced ? std::string(kernels::gemm_variant_name(*forced)) : "default";
  row.chosen = kernels::gemm_variant_name(choice.variant);
  row.preset = kernels::gemm_preset_name(choice.preset);
  row.ms = ms[ms.size() / 2];
  row.gflops = 2.0 * s * s * s / (row.ms * 1e6);
  if (ref) {
    std::vector<float> c(size_t(s) * s);
    vk::download(ctx, buf_c, c.data(), c.size() * 4);
    double max_err = 0, max_ref = 0, max_mag = 0;
    for (size_t i = 0; i < c.size(); ++i) {
      max_err = std::max(max_err, std::fabs(c[i] - (*ref)[i]));
      max_ref = std::max(max_ref, std::fabs((*ref)[i]));
      max_mag = std::max(max_mag, (*mag)[i]);
    }
    row.max_rel_err = max_err / max_ref;
    // Worst-case fp32 accumulation over K terms, relative to the largest result.
    row.err_bound = (s + 4) * std::ldexp(1.0, -24) * max_mag / max_ref;
  }
  return row;
}

std::string sci(std::optional<double> v) {
  if (!v) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2e", *v);
  return buf;
}

}  // namespace

nlohmann::json run_gemm_bench(const GemmBenchOptions& o) {
  vk::Context ctx;
  std::vector<std::optional<GemmVariant>> variants;
  if (o.variant == "all") {
    if (kernels::select_coopmat(ctx.caps())) variants.push_back(GemmVariant::Coopmat);
    variants.push_back(GemmVariant::Tiled16);
    variants.push_back(GemmVariant::Fp32);
    variants.push_back(std::nullopt);  // the selector's choice
  } else {
    const auto v = kernels::gemm_variant_from_name(o.variant);
    if (!v) throw Error("unknown GEMM variant '" + o.variant + "'", "use all, coopmat, tiled16 or fp32");
    variants.push_back(v);
  }
  std::fprintf(stderr, "gemm on %s\n", ctx.caps().name.c_str());
  nlohmann::json results = nlohmann::json::array();
  for (uint32_t s : o.sizes) {
    const auto a = fp16_exact_values(size_t(s) * s, 1), b = fp16_exact_values(size_t(s) * s, 2);
    std::vector<double> ref, mag;
    const bool check = s <= o.check_max;
    if (check) {
      std::fprintf(stderr, "  %u³: float64 reference...\n", s);
      reference(s, a, b, ref, mag);
    }
    for (const auto& v : variants) {
      const Row r = run_one(ctx, s, v, a, b, check ? &ref : nullptr, check ? &mag : nullptr, o.seconds_per_row);
      nlohmann::json j = {{"variant", r.variant}, {"m", s}, {"n", s}, {"k", s}, {"preset", r.preset},
                          {"ms", r.ms}, {"gflops", r.gflops},
                          {"max_rel_err", r.max_rel_err ? nlohmann::json(*r.max_rel_err) : nlohmann::json(nullptr)},
                          {"err_bound", r.err_bound ? nlohmann::json(*r.err_bound) : nlohmann::json(nullptr)}};
      if (!v) j["chosen"] = r.chosen;
      if (o.peak_tflops) j["fraction_of_peak"] = r.gflops / (*o.peak_tflops * 1e3);
      std::fprintf(stderr, "  %5u³ %-8s %-8s %-6s %9.3f ms %9.1f GFLOP/s  max_rel_err %s (bound %s)\n", s,
                   r.variant.c_str(), v ? "" : r.chosen.c_str(), r.preset.c_str(), r.ms, r.gflops,
                   sci(r.max_rel_err).c_str(), sci(r.err_bound).c_str());
      results.push_back(j);
    }
  }
  return {{"device", ctx.caps().name}, {"results", results}};
}

}  // namespace vkgrad::bench
