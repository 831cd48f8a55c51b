#include "conv_bench.hpp"

#include "gemm_bench.hpp"
#include "reference/conv.hpp"
#include "vkgrad/error.hpp"
#include "vkgrad/kernels/conv.hpp"
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

reference::ConvShape parse(const std::string& text) {
  reference::ConvShape s;
  uint32_t o = 0, k = 0;
  int used = 0;
  const auto bad = [&] {
    return Error("bad --shapes entry '" + text + "'",
                 "write NxCxHxW,OxK[,sS][,pP][,gG], e.g. 32x64x56x56,64x3,p1 (channels per group = C / G)");
  };
  if (std::sscanf(text.c_str(), "%ux%ux%ux%u,%ux%u%n", &s.samples, &s.in_channels, &s.h, &s.w, &o, &k, &used) != 6)
    throw bad();
  for (size_t at = size_t(used); at < text.size();) {
    uint32_t v = 0;
    int n = 0;
    if (text[at] != ',' || std::sscanf(text.c_str() + at + 1, "%*c%u%n", &v, &n) != 1) throw bad();
    const char key = text[at + 1];
    if (key == 's') s.stride_h = s.stride_w = v;
    else if (key == 'p') s.pad_h = s.pad_w = v;
    else if (key == 'g') s.groups = v;
    else throw bad();
    at += size_t(n) + 1;
  }
  if (!s.samples || !s.in_channels || !s.h || !s.w || !o || !k || !s.groups || !s.stride_h ||
      s.in_channels % s.groups || o % s.groups || s.h + 2 * s.pad_h < k || s.w + 2 * s.pad_w < k)
    throw bad();
  s.in_channels /= s.groups;
  s.out_channels = o / s.groups;
  s.kh = s.kw = k;
  return s;
}

std::vector<double> values(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<double> v(n);
  for (double& x : v) x = kernels::half_value(kernels::half_bits(dist(rng)));  // exact in fp16 and fp32
  return v;
}

vk::Buffer upload(vk::Context& ctx, const std::vector<double>& v, ElemType t, const char* name) {
  std::vector<std::byte> bytes(kernels::tensor_bytes(t, v.size()));
  for (size_t i = 0; i < v.size(); ++i) {
    if (t == ElemType::F32) {
      const float f = float(v[i]);
      std::memcpy(bytes.data() + 4 * i, &f, 4);
    } else {
      const uint16_t h = kernels::half_bits(float(v[i]));
      std::memcpy(bytes.data() + 2 * i, &h, 2);
    }
  }
  vk::Buffer b(ctx, {.size = bytes.size(), .name = name});
  vk::upload(ctx, b, bytes.data(), bytes.size());
  return b;
}

std::vector<double> download(vk::Context& ctx, const vk::Buffer& b, ElemType t, size_t n) {
  std::vector<std::byte> bytes(kernels::tensor_bytes(t, n));
  vk::download(ctx, b, bytes.data(), bytes.size());
  std::vector<double> v(n);
  for (size_t i = 0; i < n; ++i) {
    if (t == ElemType::F32) {
      float f;
      std::memcpy(&f, bytes.data() + 4 * i, 4);
      v[i] = f;
    } else {
      uint16_t h;
      std::memcpy(&h, bytes.data() + 2 * i, 2);
      v[i] = kernels::half_value(h);
    }
  }
  return v;
}

// The largest |device − reference| relative to the largest |reference|, and the fp32
// accumulation bound (K + 4)·2^-24·Σ|terms| plus the output rounding, on the same scale.
std::pair<double, double> accuracy(const std::vector<double>& got, const reference::ConvResult& ref, uint64_t k,
                                   ElemType out) {
  double err = 0, top = 0, bound = 0;
  const double u = out == ElemType::F16 ? std::ldexp(1.0, -11) : std::ldexp(1.0, -24);
  for (size_t i = 0; i < got.size(); ++i) {
    err = std::max(err, std::fabs(got[i] - ref.value[i]));
    top = std::max(top, std::fabs(ref.value[i]));
    bound = std::max(bound, double(k + 4) * std::ldexp(1.0, -24) * ref.magnitude[i] + u * std::fabs(ref.value[i]));
  }
  return {err / top, bound / top};
}

}  // namespace

nlohmann::json run_conv_bench(const ConvBenchOptions& o) {
  if (o.types != "f16" && o.types != "f32") throw Error("unknown --types '" + o.types + "'", "use f16 or f32");
  const ElemType type = o.types == "f16" ? ElemType::F16 : ElemType::F32;
  vk::Context ctx;
  const auto& caps = ctx.caps();
  const std::vector<GemmVariant> variants = bench_variants(caps, type, o.variant);
  std::fprintf(stderr, "conv on %s, %s tensors (weight gradient fp32)\n", caps.name.c_str(), o.types.c_str());
  nlohmann::json results = nlohmann::json::array();
  for (const auto& text : o.shapes) {
    const reference::ConvShape s = parse(text);
    kernels::ConvGeometry g;
    g.groups = s.groups, g.in_channels = s.in_channels, g.out_channels = s.out_channels;
    g.in_h = s.h, g.in_w = s.w, g.kernel_h = s.kh, g.kernel_w = s.kw;
    g.stride_h = s.stride_h, g.stride_w = s.stride_w, g.pad_h = s.pad_h, g.pad_w = s.pad_w;
    const double gflop = 2.0 * double(s.output_size()) * s.in_channels * s.kh * s.kw / 1e9;
    const bool check = gflop <= o.check_max_gflop;
    const auto x = values(s.input_size(), 1), w = values(s.weight_size(), 2), dy = values(s.output_size(), 3);
    std::optional<reference::ConvResult> ref[3];
    if (check) {
      std::fprintf(stderr, "  %s: float64 reference...\n", text.c_str());
      ref[0] = reference::conv_forward(s, x, w, {});
      ref[1] = reference::conv_data_grad(s, w, dy);
      ref[2] = reference::conv_weight_grad(s, dy, x);
    }
    auto bx = upload(ctx, x, type, "x"), bw = upload(ctx, w, type, "w"), bdy = upload(ctx, dy, type, "dy");
    vk::Buffer by(ctx, {.size = kernels::tensor_bytes(type, s.output_size()), .name = "y"});
    vk::Buffer bdx(ctx, {.size = kernels::tensor_bytes(type, s.input_size()), .name = "dx"});
    vk::Buffer bdw(ctx, {.size = 4 * s.weight_size(), .name = "dw"});
    const kernels::GemmDesc passes[3] = {
        kernels::conv_forward(g, s.samples, {bx.range(), type}, {bw.range(), type}, {by.range(), type}),
        kernels::conv_data_grad(g, s.samples, {bw.range(), type}, {bdy.range(), type}, {bdx.range(), type}, false),
        kernels::conv_weight_grad(g, s.samples, {bdy.range(), type}, {bx.range(), type}, {bdw.range(), ElemType::F32},
                                  false)};
    const char* names[3] = {"forward", "data_grad", "weight_grad"};
    const uint64_t depth[3] = {uint64_t(s.in_channels) * s.kh * s.kw, uint64_t(s.out_channels) * s.kh * s.kw,
                               uint64_t(s.samples) * s.out_h() * s.out_w()};
    for (GemmVariant v : variants)
      for (int pass = 0; pass < 3; ++pass) {
        const auto& d = passes[pass];
        const auto choice = kernels::select_gemm(caps, d.m, d.n, d.a.type, d.b.type, v);
        const auto timed = [&](uint32_t reps) { return time_gemm(ctx, d, choice, reps); };
        double first = 0;
        try {
          first = timed(1).at(0);  // compiles the pipeline on lavapipe
        } catch (const Error& e) {
          std::fprintf(stderr, "  %s %s %s skipped: %s\n", text.c_str(), names[pass],
                       std::string(kernels::gemm_variant_name(v)).c_str(), e.what());
          continue;
        }
        std::optional<std::pair<double, double>> acc;
        if (check) {
          const ElemType out = pass == 2 ? ElemType::F32 : type;
          const auto& buf = pass == 0 ? by : pass == 1 ? bdx : bdw;
          acc = accuracy(download(ctx, buf, out, ref[pass]->value.size()), *ref[pass], depth[pass], out);
        }
        const uint32_t reps = uint32_t(std::clamp(o.seconds_per_row * 1e3 / std::max(first, 1e-3), 2.0, 50.0));
        auto ms = timed(reps);
        std::sort(ms.begin(), ms.end());
        const double median = ms[ms.size() / 2];
        const double rate = gflop / (median * 1e-3);
        std::fprintf(stderr, "  %-26s %-11s %-8s %-6s %9.3f ms %8.1f GFLOP/s  max_rel_err %s (bound %s)\n",
                     text.c_str(), names[pass], std::string(kernels::gemm_variant_name(v)).c_str(),
                     std::string(kernels::gemm_preset_name(choice.preset)).c_str(), median, rate,
                     acc ? std::to_string(acc->first).c_str() : "-", acc ? std::to_string(acc->second).c_str() : "-");
        results.push_back({{"shape", text},
                           {"pass", names[pass]},
                           {"variant", kernels::gemm_variant_name(v)},
                           {"preset", kernels::gemm_preset_name(choice.preset)},
                           {"gflop", gflop},
                           {"ms", median},
                           {"gflops", rate},
                           {"max_rel_err", acc ? nlohmann::json(acc->first) : nlohmann::json(nullptr)},
                           {"err_bound", acc ? nlohmann::json(acc->second) : nlohmann::json(nullptr)}});
      }
  }
  return {{"device", caps.name}, {"types", o.types}, {"results", results}};
}

}  // namespace vkgrad::bench
