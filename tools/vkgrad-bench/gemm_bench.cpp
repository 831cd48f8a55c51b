#include "gemm_bench.hpp"

#include "vkgrad/error.hpp"
#include "vkgrad/kernels/gemm.hpp"
#include "vkgrad/kernels/gemm_tuning.hpp"
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

struct Shape {
  uint32_t m, n, k;
};

// One benchmark problem: op(A) m×k and op(B) k×n stored as the layout says, row-major.
struct Problem {
  Shape s;
  bool trans_a, trans_b;
  ElemType type;
  std::vector<float> a, b;
  std::vector<double> ref, mag;  // C = op(A)·op(B) in float64 and Σ|a·b| per element; empty if unchecked
  uint32_t lda() const { return trans_a ? s.m : s.k; }
  uint32_t ldb() const { return trans_b ? s.k : s.n; }
};

void reference(Problem& p) {
  const auto [m, n, k] = p.s;
  p.ref.assign(size_t(m) * n, 0.0);
  p.mag.assign(size_t(m) * n, 0.0);
  std::vector<double> brow(n);
  for (uint32_t kk = 0; kk < k; ++kk) {
    for (uint32_t j = 0; j < n; ++j) brow[j] = p.b[p.trans_b ? size_t(j) * k + kk : size_t(kk) * n + j];
    for (uint32_t i = 0; i < m; ++i) {
      const double av = p.a[p.trans_a ? size_t(kk) * m + i : size_t(i) * k + kk];
      double* crow = &p.ref[size_t(i) * n];
      double* mrow = &p.mag[size_t(i) * n];
      for (uint32_t j = 0; j < n; ++j) {
        crow[j] += av * brow[j];
        mrow[j] += std::fabs(av * brow[j]);
      }
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

// Times one variant and preset (the selector's choice when `forced` is empty) on `p`.
Row run_one(vk::Context& ctx, const Problem& p, std::optional<kernels::GemmChoice> forced, double seconds_per_row) {
  const auto [m, n, k] = p.s;
  const auto ab = encode(p.a, p.type), bb = encode(p.b, p.type);
  vk::Buffer buf_a(ctx, {.size = ab.size(), .name = "A"});
  vk::Buffer buf_b(ctx, {.size = bb.size(), .name = "B"});
  vk::Buffer buf_c(ctx, {.size = 4ull * m * n, .name = "C"});
  vk::upload(ctx, buf_a, ab.data(), ab.size());
  vk::upload(ctx, buf_b, bb.data(), bb.size());
  kernels::GemmDesc d;
  d.m = m, d.n = n, d.k = k;
  d.a = {buf_a.range(), p.type, p.lda(), 0, p.trans_a};
  d.b = {buf_b.range(), p.type, p.ldb(), 0, p.trans_b};
  d.c = {buf_c.range(), ElemType::F32, n, 0, false};
  // The default row is what Gemm::record picks: measured where the Context tunes, else the rule.
  const kernels::GemmChoice choice = forced                   ? *forced
                                     : ctx.tuning().enabled() ? kernels::tuned_gemm_choice(ctx, d)
                                                              : kernels::select_gemm(ctx.caps(), m, n, p.type, p.type);

  const auto timed = [&](uint32_t reps) { return time_gemm(ctx, d, choice, reps); };
  // Warm-up: on lavapipe the first dispatch of a pipeline compiles it with LLVM.
  const double first = timed(1).at(0);
  const uint32_t reps = uint32_t(std::clamp(seconds_per_row * 1e3 / std::max(first, 1e-3), 2.0, 50.0));
  auto ms = timed(reps);
  std::sort(ms.begin(), ms.end());
  Row row;
  row.variant = forced ? std::string(kernels::gemm_variant_name(forced->variant)) : "default";
  row.chosen = kernels::gemm_variant_name(choice.variant);
  row.preset = kernels::gemm_preset_name(choice.preset);
  row.ms = ms[ms.size() / 2];
  row.gflops = 2.0 * m * n * k / (row.ms * 1e6);
  if (!p.ref.empty()) {
    std::vector<float> c(size_t(m) * n);
    vk::download(ctx, buf_c, c.data(), c.size() * 4);
    double max_err = 0, max_ref = 0, max_mag = 0;
    for (size_t i = 0; i < c.size(); ++i) {
      max_err = std::max(max_err, std::fabs(c[i] - p.ref[i]));
      max_ref = std::max(max_ref, std::fabs(p.ref[i]));
      max_mag = std::max(max_mag, p.mag[i]);
    }
    row.max_rel_err = max_err / max_ref;
    // Worst-case fp32 accumulation over K terms, relative to the largest result.
    row.err_bound = (k + 4) * std::ldexp(1.0, -24) * max_mag / max_ref;
  }
  return row;
}

Shape parse_shape(const std::string& text) {
  Shape s{};
  char x1 = 0, x2 = 0;
  int used = 0;
  if (std::sscanf(text.c_str(), "%u%c%u%c%u%n", &s.m, &x1, &s.n, &x2, &s.k, &used) != 5 || x1 != 'x' || x2 != 'x' ||
      size_t(used) != text.size() || s.m == 0 || s.n == 0 || s.k == 0)
    throw Error("bad --shapes entry '" + text + "'", "write shapes as MxNxK, e.g. 128x512x784");
  return s;
}

std::string sci(std::optional<double> v) {
  if (!v) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2e", *v);
  return buf;
}

}  // namespace

std::vector<double> time_gemm(vk::Context& ctx, const kernels::GemmDesc& d, const kernels::GemmChoice& choice,
                              uint32_t reps) {
  const kernels::Gemm gemm(ctx);
  std::unique_ptr<vk::Recorder> rec;
  ctx.run_now([&](VkCommandBuffer cmd) {
    rec = std::make_unique<vk::Recorder>(ctx, cmd, vk::RecorderOptions{.timestamps = true});
    for (uint32_t r = 0; r < reps; ++r) gemm.record_with(*rec, d, choice);
  });
  std::vector<double> ms;
  for (const auto& t : rec->timings()) ms.push_back(t.ms);
  return ms;
}

std::vector<GemmVariant> bench_variants(const vk::Caps& caps, ElemType type, const std::string& name) {
  if (name != "all") {
    const auto v = kernels::gemm_variant_from_name(name);
    if (!v) throw Error("unknown GEMM variant '" + name + "'", "use all, coopmat, coopmat2, tiled16, fp32 or cpu");
    return {*v};
  }
  std::vector<GemmVariant> variants;
  if (type == ElemType::F16 && kernels::select_coopmat(caps)) variants.push_back(GemmVariant::Coopmat);
  if (type == ElemType::F16 && kernels::select_coopmat2(caps)) variants.push_back(GemmVariant::Coopmat2);
  variants.push_back(type == ElemType::F16 ? GemmVariant::Tiled16 : GemmVariant::Fp32);
  if (caps.enabled(vk::Feature::BufferDeviceAddress)) variants.push_back(GemmVariant::Cpu);
  return variants;
}

nlohmann::json run_gemm_bench(const GemmBenchOptions& o) {
  if (o.layout.size() != 2 || o.layout.find_first_not_of("nt") != std::string::npos)
    throw Error("unknown --layout '" + o.layout + "'", "use nn, nt, tn or tt (t: that operand is read transposed)");
  if (o.types != "f16" && o.types != "f32") throw Error("unknown --types '" + o.types + "'", "use f16 or f32");
  const ElemType type = o.types == "f16" ? ElemType::F16 : ElemType::F32;
  vk::Context ctx;
  const auto& caps = ctx.caps();

  const std::vector<GemmVariant> variants = bench_variants(caps, type, o.variant);
  std::vector<Shape> shapes;
  for (uint32_t s : o.sizes) shapes.push_back({s, s, s});
  for (const auto& s : o.shapes) shapes.push_back(parse_shape(s));

  std::fprintf(stderr, "gemm on %s, layout %s, %s operands\n", caps.name.c_str(), o.layout.c_str(), o.types.c_str());
  nlohmann::json results = nlohmann::json::array();
  for (const Shape& s : shapes) {
    Problem p{s, o.layout[0] == 't', o.layout[1] == 't', type,
              fp16_exact_values(size_t(s.m) * s.k, 1), fp16_exact_values(size_t(s.k) * s.n, 2), {}, {}};
    if (std::max({s.m, s.n, s.k}) <= o.check_max) {
      std::fprintf(stderr, "  %ux%ux%u: float64 reference...\n", s.m, s.n, s.k);
      reference(p);
    }
    std::vector<std::optional<kernels::GemmChoice>> runs;
    for (GemmVariant v : variants)
      for (auto preset : {kernels::GemmPreset::Small, kernels::GemmPreset::Medium, kernels::GemmPreset::Large})
        runs.push_back(kernels::GemmChoice{v, preset});
    runs.push_back(std::nullopt);  // the selector's choice
    for (const auto& run : runs) {
      Row r;
      try {
        r = run_one(ctx, p, run, o.seconds_per_row);
      } catch (const Error& e) {
        std::fprintf(stderr, "  %ux%ux%u %-8s %-6s skipped: %s\n", s.m, s.n, s.k,
                     std::string(kernels::gemm_variant_name(run->variant)).c_str(),
                     std::string(kernels::gemm_preset_name(run->preset)).c_str(), e.what());
        continue;
      }
      nlohmann::json j = {{"variant", r.variant}, {"preset", r.preset}, {"m", s.m}, {"n", s.n}, {"k", s.k},
                          {"layout", o.layout}, {"types", o.types}, {"ms", r.ms}, {"gflops", r.gflops},
                          {"max_rel_err", r.max_rel_err ? nlohmann::json(*r.max_rel_err) : nlohmann::json(nullptr)},
                          {"err_bound", r.err_bound ? nlohmann::json(*r.err_bound) : nlohmann::json(nullptr)}};
      if (!run) {
        j["chosen"] = r.chosen;
        j["chosen_preset"] = r.preset;
        j["tuned"] = ctx.tuning().enabled();
      }
      if (o.peak_tflops) j["fraction_of_peak"] = r.gflops / (*o.peak_tflops * 1e3);
      std::fprintf(stderr, "  %ux%ux%u %-8s %-8s %-6s %9.3f ms %9.1f GFLOP/s  max_rel_err %s (bound %s)\n", s.m, s.n,
                   s.k, r.variant.c_str(), run ? "" : r.chosen.c_str(), r.preset.c_str(), r.ms, r.gflops,
                   sci(r.max_rel_err).c_str(), sci(r.err_bound).c_str());
      results.push_back(j);
    }
  }
  return {{"device", caps.name}, {"results", results}};
}

}  // namespace vkgrad::bench
