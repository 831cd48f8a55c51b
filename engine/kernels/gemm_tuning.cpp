#include "vkgrad/kernels/gemm_tuning.hpp"

#include "vkgrad/error.hpp"
#include "vkgrad/vk/buffer.hpp"
#include "vkgrad/vk/context.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <random>

namespace vkgrad::kernels {
namespace {

constexpr GemmVariant kVariants[] = {GemmVariant::Coopmat, GemmVariant::Coopmat2, GemmVariant::Tiled16,
                                     GemmVariant::Fp32, GemmVariant::Cpu};
constexpr GemmPreset kPresets[] = {GemmPreset::Small, GemmPreset::Medium, GemmPreset::Large};
constexpr uint32_t kTrialCap = 1024;  // largest dimension timed: the ranking settles well below it
constexpr uint32_t kTimedRuns = 3;      // a CPU driver: each run takes milliseconds
constexpr uint32_t kGpuTimedRuns = 16;  // a GPU: microseconds each, and clocks that still rise

uint32_t bucket(uint32_t x) { return uint32_t(std::bit_width(std::max(x, 1u) - 1)); }

// A problem of desc's types and layout, stored densely, with values exact in its types.
struct Problem {
  uint32_t m, n, k;
  const GemmDesc& like;
  std::vector<float> a, b;  // as stored: op(A) is a[k][m] when transposed, else a[m][k]; likewise b
  uint32_t lda() const { return like.a.transpose ? m : k; }
  uint32_t ldb() const { return like.b.transpose ? k : n; }
};

float representable(float v, ElemType t) { return t == ElemType::F16 ? half_value(half_bits(v)) : v; }

Problem make_problem(const GemmDesc& like, uint32_t m, uint32_t n, uint32_t k) {
  Problem p{m, n, k, like, std::vector<float>(size_t(m) * k), std::vector<float>(size_t(k) * n)};
  std::mt19937 rng(m * 131u + n * 17u + k);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  for (float& v : p.a) v = representable(u(rng), like.a.type);
  for (float& v : p.b) v = representable(u(rng), like.b.type);
  return p;
}

std::vector<uint32_t> encode(const std::vector<float>& v, ElemType t) {
  std::vector<uint32_t> words(t == ElemType::F32 ? v.size() : (v.size() + 1) / 2, 0u);
  for (size_t i = 0; i < v.size(); ++i) {
    if (t == ElemType::F32)
      std::memcpy(&words[i], &v[i], 4);
    else
      words[i / 2] |= uint32_t(half_bits(v[i])) << (16 * (i % 2));
  }
  return words;
}

// Device buffers holding the problem, and a desc that multiplies them into C.
struct Bound {
  vk::Buffer a, b, c;
  GemmDesc desc;
};

Bound bind(vk::Context& ctx, const Problem& p) {
  const auto wa = encode(p.a, p.like.a.type), wb = encode(p.b, p.like.b.type);
  Bound out;
  out.a = vk::Buffer(ctx, {.size = 4 * wa.size(), .name = "gemm tuning A"});
  out.b = vk::Buffer(ctx, {.size = 4 * wb.size(), .name = "gemm tuning B"});
  out.c = vk::Buffer(ctx, {.size = tensor_bytes(p.like.c.type, size_t(p.m) * p.n), .name = "gemm tuning C"});
  vk::upload(ctx, out.a, std::span<const uint32_t>(wa));
  vk::upload(ctx, out.b, std::span<const uint32_t>(wb));
  GemmDesc& d = out.desc;
  d.m = p.m, d.n = p.n, d.k = p.k;
  d.a = {out.a.range(), p.like.a.type, p.lda(), 0, p.like.a.transpose};
  d.b = {out.b.range(), p.like.b.type, p.ldb(), 0, p.like.b.transpose};
  d.c = {out.c.range(), p.like.c.type, p.n, 0, false};
  return out;
}

// max over C of |device − float64| / bound, with the bound of tests/kernels/gemm_test.cpp:
// fp32 accumulation over k terms, plus the output's rounding.
double probe_error(vk::Context& ctx, const Gemm& gemm, const Problem& p, const GemmChoice& choice) {
  Bound bound = bind(ctx, p);
  ctx.run_now([&](VkCommandBuffer cmd) {
    vk::Recorder rec(ctx, cmd);
    gemm.record_with(rec, bound.desc, choice);
  });
  std::vector<uint32_t> words(bound.c.size() / 4);
  vk::download(ctx, bound.c, std::span<uint32_t>(words));
  const bool f16 = p.like.c.type == ElemType::F16;
  const double u_out = f16 ? std::ldexp(1.0, -11) : std::ldexp(1.0, -24);
  double worst = 0;
  for (uint32_t r = 0; r < p.m; ++r)
    for (uint32_t c = 0; c < p.n; ++c) {
      double ref = 0, mag = 0;
      for (uint32_t k = 0; k < p.k; ++k) {
        const double x = p.a[p.like.a.transpose ? size_t(k) * p.m + r : size_t(r) * p.k + k];
        const double y = p.b[p.like.b.transpose ? size_t(c) * p.k + k : size_t(k) * p.n + c];
        ref += x * y;
        mag += std::fabs(x * y);
      }
      const size_t i = size_t(r) * p.n + c;
      float got = 0;
      if (f16)
        got = half_value(uint16_t(words[i / 2] >> (16 * (i % 2))));
      else
        std::memcpy(&got, &words[i], 4);
      const double tol = (p.k + 4) * std::ldexp(1.0, -24) * mag + u_out * std::fabs(ref) + std::ldexp(1.0, -24);
      const double e = std::fabs(double(got) - ref) / tol;
      worst = std::isfinite(e) ? std::max(worst, e) : std::numeric_limits<double>::infinity();
    }
  return worst;
}

// GPU time of one dispatch: the best of a few (many on a GPU, where one small GEMM is within the
// timestamps' noise), after one untimed run (lavapipe compiles a pipeline at its first dispatch).
double time_choice(vk::Context& ctx, const Gemm& gemm, const GemmDesc& d, const GemmChoice& choice) {
  const uint32_t runs = ctx.caps().type == VK_PHYSICAL_DEVICE_TYPE_CPU ? kTimedRuns : kGpuTimedRuns;
  ctx.run_now([&](VkCommandBuffer cmd) {
    vk::Recorder rec(ctx, cmd);
    gemm.record_with(rec, d, choice);
  });
  std::unique_ptr<vk::Recorder> rec;
  ctx.run_now([&](VkCommandBuffer cmd) {
    rec = std::make_unique<vk::Recorder>(ctx, cmd, vk::RecorderOptions{.timestamps = true, .max_timestamps = runs});
    for (uint32_t i = 0; i < runs; ++i) gemm.record_with(*rec, d, choice);
  });
  double best = std::numeric_limits<double>::infinity();
  for (const auto& t : rec->timings()) best = std::min(best, t.ms);
  return best;
}

// Keeps parity (and so the word-pairing of fp16 rows) while shrinking to a cheap probe.
uint32_t probe_dim(uint32_t x) { return x <= 48 ? x : 46 + (x & 1); }

bool usable(const vk::Caps& caps, const GemmDesc& d, const GemmChoice& c) {
  return std::ranges::any_of(gemm_candidates(caps, d), [&](const GemmChoice& e) {
    return e.variant == c.variant && e.preset == c.preset;
  });
}

}  // namespace

std::string gemm_tuning_key(const GemmDesc& d) {
  std::string key = "gemm:";
  key += std::string(elem_type_name(d.a.type)) + "." + std::string(elem_type_name(d.b.type)) + "." +
         std::string(elem_type_name(d.c.type)) + ":";
  key += d.a.transpose ? 't' : 'n';
  key += d.b.transpose ? 't' : 'n';
  key += ":m" + std::to_string(bucket(d.m)) + ".n" + std::to_string(bucket(d.n)) + ".k" + std::to_string(bucket(d.k));
  return key;
}

std::string gemm_choice_text(const GemmChoice& c) {
  return std::string(gemm_variant_name(c.variant)) + "/" + std::string(gemm_preset_name(c.preset));
}

std::optional<GemmChoice> gemm_choice_from_text(const std::string& text) {
  const auto slash = text.find('/');
  if (slash == std::string::npos) return std::nullopt;
  const auto variant = gemm_variant_from_name(text.substr(0, slash));
  if (!variant) return std::nullopt;
  for (GemmPreset p : kPresets)
    if (gemm_preset_name(p) == text.substr(slash + 1)) return GemmChoice{*variant, p};
  return std::nullopt;
}

std::optional<GemmChoice> pick_gemm_trial(const std::vector<GemmTrial>& trials) {
  std::optional<GemmChoice> best;
  double best_ms = std::numeric_limits<double>::infinity();
  for (const auto& t : trials)
    if (t.max_error <= 1.0 && t.ms < best_ms) {
      best = t.choice;
      best_ms = t.ms;
    }
  return best;
}

std::vector<GemmChoice> gemm_candidates(const vk::Caps& caps, const GemmDesc& d) {
  std::vector<GemmChoice> out;
  // A CPU driver emulates cooperative matrices: there they measured 3-5× slower than the cpu
  // kernel, and each of their pipelines takes seconds to compile, so they are not measured.
  const bool emulated = caps.type == VK_PHYSICAL_DEVICE_TYPE_CPU;
  for (GemmVariant v : kVariants) {
    if (emulated && (v == GemmVariant::Coopmat || v == GemmVariant::Coopmat2)) continue;
    try {
      (void)select_gemm(caps, d.m, d.n, d.a.type, d.b.type, v);
    } catch (const Error&) {
      continue;  // not for these operand types, or not on this device
    }
    for (GemmPreset p : kPresets)
      if (gemm_choice_fits(caps, {v, p})) out.push_back({v, p});
  }
  return out;
}

std::vector<GemmTrial> tune_gemm(vk::Context& ctx, const GemmDesc& desc) {
  if (ctx.caps().timestamp_valid_bits == 0)
    throw Error("cannot tune GEMMs on '" + ctx.caps().name + "': its compute queue has no timestamps",
                "turn tuning off (ContextCreateInfo::tune_kernels, VKGRAD_TUNE=0)");
  const Gemm gemm(ctx);
  const std::string key = gemm_tuning_key(desc);
  const Problem probe = make_problem(desc, probe_dim(desc.m), probe_dim(desc.n), probe_dim(desc.k));
  const Problem trial =
      make_problem(desc, std::min(desc.m, kTrialCap), std::min(desc.n, kTrialCap), std::min(desc.k, kTrialCap));
  Bound timed = bind(ctx, trial);
  std::vector<GemmTrial> trials;
  const auto measure = [&](const GemmChoice& c) {
    GemmTrial t{c, std::numeric_limits<double>::infinity(), probe_error(ctx, gemm, probe, c)};
    if (t.max_error <= 1.0)
      t.ms = time_choice(ctx, gemm, timed.desc, c);
    else
      ctx.tuning().record("probe:" + key + ":" + gemm_choice_text(c), "wrong");
    trials.push_back(t);
  };
  // A CPU driver: each variant at the preset its rule picks, then the winner's other presets,
  // most of the gain for half the pipelines (each costs a compile of up to seconds there). A GPU
  // compiles in milliseconds and its best preset is often not the rule's (H200, 1024³: coopmat2
  // small 50 TFLOP/s, large 20): every candidate is measured.
  const bool cpu_driver = ctx.caps().type == VK_PHYSICAL_DEVICE_TYPE_CPU;
  const auto all = gemm_candidates(ctx.caps(), desc);
  for (const GemmChoice& c : all) {
    const bool first_of_variant = std::ranges::find(all, c.variant, &GemmChoice::variant)->preset == c.preset;
    if (!cpu_driver) {
      measure(c);
      continue;
    }
    if (!first_of_variant) continue;
    const GemmChoice rule = select_gemm(ctx.caps(), desc.m, desc.n, desc.a.type, desc.b.type, c.variant);
    measure(usable(ctx.caps(), desc, rule) ? rule : c);
  }
  if (const auto lead = pick_gemm_trial(trials))
    for (const GemmChoice& c : all)
      if (c.variant == lead->variant && std::ranges::none_of(trials, [&](const GemmTrial& t) {
            return t.choice.variant == c.variant && t.choice.preset == c.preset;
          }))
        measure(c);
  if (const auto best = pick_gemm_trial(trials)) ctx.tuning().record(key, gemm_choice_text(*best));
  return trials;
}

GemmChoice tuned_gemm_choice(vk::Context& ctx, const GemmDesc& desc) {
  const std::string key = gemm_tuning_key(desc);
  if (const auto text = ctx.tuning().find(key))
    if (const auto c = gemm_choice_from_text(*text); c && usable(ctx.caps(), desc, *c)) return *c;
  const GemmChoice rule = select_gemm(ctx.caps(), desc.m, desc.n, desc.a.type, desc.b.type);
  if (ctx.caps().timestamp_valid_bits == 0) return rule;
  if (const auto best = pick_gemm_trial(tune_gemm(ctx, desc))) return *best;
  // No candidate passed its probe: the rule's choice is kept for the class, so that it is not
  // measured again at every GEMM.
  ctx.tuning().record(key, gemm_choice_text(rule));
  return rule;
}

}  // namespace vkgrad::kernels
