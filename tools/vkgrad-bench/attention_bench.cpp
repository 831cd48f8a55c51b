#include "attention_bench.hpp"

#include "vkgrad/error.hpp"
#include "vkgrad/graph/graph.hpp"
#include "vkgrad/kernels/attention.hpp"
#include "vkgrad/train/trainer.hpp"
#include "vkgrad/vk/context.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>
#include <random>

namespace vkgrad::bench {
namespace {

// The fused kernel alone: milliseconds of GPU time per forward + backward (the median of
// `steps` timed after one untimed), on fp16 data uniform in [-1, 1].
double time_fused_kernel(vk::Context& ctx, const kernels::AttentionShape& s, kernels::AttentionVariant variant,
                         uint32_t steps) {
  const uint64_t rows = uint64_t(s.batch) * s.tokens, d = uint64_t(s.heads) * s.head_dim;
  const auto fp16_buffer = [&](uint64_t elements, const char* name, bool random) {
    std::vector<uint16_t> h(elements + elements % 2);
    std::mt19937 rng(7);
    std::uniform_real_distribution<float> u(-1.0f, 1.0f);
    for (auto& x : h) x = random ? kernels::half_bits(u(rng)) : 0;
    vk::Buffer b(ctx, {.size = 2 * h.size(), .name = name});
    vk::upload(ctx, b, h.data(), 2 * h.size());
    return b;
  };
  const vk::Buffer qkv = fp16_buffer(rows * 3 * d, "qkv", true), dy = fp16_buffer(rows * d, "dy", true);
  const vk::Buffer y = fp16_buffer(rows * d, "y", false), dqkv = fp16_buffer(rows * 3 * d, "dqkv", false);
  const vk::Buffer lse(ctx, {.size = kernels::Attention::row_stats_bytes(s), .name = "lse"});
  const vk::Buffer delta(ctx, {.size = kernels::Attention::row_stats_bytes(s), .name = "delta"});
  const auto f16 = [](const vk::Buffer& b) { return kernels::TensorRef{b.range(0, b.size()), kernels::ElemType::F16}; };
  const kernels::Attention att(ctx);
  std::unique_ptr<vk::Recorder> rec;
  ctx.run_now([&](VkCommandBuffer cmd) {
    rec = std::make_unique<vk::Recorder>(ctx, cmd,
                                         vk::RecorderOptions{.timestamps = true, .max_timestamps = 3 * (steps + 1)});
    for (uint32_t i = 0; i <= steps; ++i) {
      att.forward(*rec, s, f16(qkv), f16(y), lse.range(0, lse.size()), variant);
      att.backward(*rec, s, f16(qkv), f16(y), f16(dy), lse.range(0, lse.size()), f16(dqkv), false,
                   delta.range(0, delta.size()), variant);
    }
  });
  const auto t = rec->timings();  // three dispatches per step
  std::vector<double> per_step;
  for (size_t i = 3; i + 2 < t.size(); i += 3) per_step.push_back(t[i].ms + t[i + 1].ms + t[i + 2].ms);
  if (per_step.empty()) throw Error("attention kernel timing: the device recorded no timestamps", "");
  std::sort(per_step.begin(), per_step.end());
  return per_step[per_step.size() / 2];
}

nlohmann::json fused_kernel_rows(vk::Context& ctx, const AttentionBenchOptions& o) {
  nlohmann::json rows = nlohmann::json::array();
  std::fprintf(stderr, "fused kernel alone (fp16, forward + backward, GPU time):\n%8s %8s %9s %6s %12s %10s\n",
               "context", "head_dim", "variant", "batch", "tokens/s", "ms");
  for (uint32_t t : o.contexts)
    for (uint32_t hd : o.head_dims)
      for (const auto& name : o.variants) {
        const auto variant =
            name == "coopmat" ? kernels::AttentionVariant::Coopmat : kernels::AttentionVariant::Scalar;
        try {
          (void)kernels::select_attention(ctx.caps(), kernels::ElemType::F16, hd, variant);
        } catch (const Error& e) {
          std::fprintf(stderr, "%8u %8u %9s  skipped: %s\n", t, hd, name.c_str(), e.what());
          continue;
        }
        const uint32_t batch = std::max(1u, o.tokens / t);
        const kernels::AttentionShape shape{batch, t, o.heads, hd, true, 1.0f / std::sqrt(float(hd))};
        const double ms = time_fused_kernel(ctx, shape, variant, o.steps);
        const double tokens_per_s = 1e3 * batch * t / ms;
        std::fprintf(stderr, "%8u %8u %9s %6u %12.0f %10.3f\n", t, hd, name.c_str(), batch, tokens_per_s, ms);
        rows.push_back({{"context", t},
                        {"head_dim", hd},
                        {"heads", o.heads},
                        {"batch", batch},
                        {"variant", name},
                        {"ms", ms},
                        {"tokens_per_s", tokens_per_s}});
      }
  return rows;
}

}  // namespace

nlohmann::json run_attention_bench(const AttentionBenchOptions& o) {
  if (o.precision != "mixed" && o.precision != "fp32")
    throw Error("unknown --precision '" + o.precision + "'", "use mixed or fp32");
  for (const auto& k : o.kernels)
    if (k != "fused" && k != "composed")
      throw Error("unknown attention kernel '" + k + "'", "use fused, composed or both (--kernels fused,composed)");
  for (const auto& v : o.variants)
    if (v != "scalar" && v != "coopmat")
      throw Error("unknown fused attention variant '" + v + "'", "use scalar, coopmat or both (--variants scalar,coopmat)");
  vk::Context ctx;
  std::fprintf(stderr, "attention, %u heads, %s, on %s\n%8s %8s %9s %6s %12s %16s\n", o.heads, o.precision.c_str(),
               ctx.caps().name.c_str(), "context", "head_dim", "kernel", "batch", "tokens/s", "activation MiB");
  nlohmann::json rows = nlohmann::json::array();
  for (uint32_t t : o.contexts)
    for (uint32_t hd : o.head_dims)
      for (const auto& kernel : o.kernels) {
        const uint32_t dim = o.heads * hd, batch = std::max(1u, o.tokens / t);
        const auto impl = kernel == "fused" ? graph::AttentionImpl::Fused : graph::AttentionImpl::Composed;
        graph::Graph g;
        const auto x = g.reshape(g.input("x", {t * dim}), {t, dim});
        g.mse(g.flatten(g.causal_self_attention(x, o.heads, "attn", impl)), g.input("y", {t * dim}));
        train::TrainerCreateInfo info;
        info.batch_size = batch;
        info.precision = o.precision == "fp32" ? train::Precision::Fp32 : train::Precision::Mixed;
        info.optimizer = train::OptimizerConfig::adamw(1e-4f);
        train::Trainer trainer(ctx, g, info);
        std::vector<float> xs(size_t(batch) * t * dim), ys(xs.size());
        std::mt19937 rng(1);
        std::uniform_real_distribution<float> u(-1.0f, 1.0f);
        for (float& v : xs) v = u(rng);
        for (float& v : ys) v = u(rng);
        const train::Batch b{batch, {{xs}, {ys}}};
        trainer.step(b);  // compiles pipelines on first use
        (void)trainer.metrics(train::Wait::Yes);
        const auto t0 = std::chrono::steady_clock::now();
        for (uint32_t s = 0; s < o.steps; ++s) trainer.step(b);
        (void)trainer.metrics(train::Wait::Yes);
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        const double tokens_per_s = double(o.steps) * batch * t / seconds;
        const auto c = trainer.counters();
        const double mib = double(c.planned_arena_bytes) / (1 << 20);
        std::fprintf(stderr, "%8u %8u %9s %6u %12.0f %16.1f\n", t, hd, kernel.c_str(), batch, tokens_per_s, mib);
        rows.push_back({{"context", t},
                        {"head_dim", hd},
                        {"heads", o.heads},
                        {"batch", batch},
                        {"kernel", kernel},
                        {"tokens_per_s", tokens_per_s},
                        {"activation_bytes", c.planned_arena_bytes},
                        {"activation_bytes_per_sample", c.planned_arena_bytes / batch}});
      }
  nlohmann::json out{{"device", ctx.caps().name}, {"precision", o.precision}, {"rows", rows}};
  if (!o.variants.empty()) out["fused_kernel"] = fused_kernel_rows(ctx, o);
  return out;
}

}  // namespace vkgrad::bench
