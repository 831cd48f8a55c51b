#include "attention_bench.hpp"

#include "vkgrad/error.hpp"
#include "vkgrad/graph/graph.hpp"
#include "vkgrad/train/trainer.hpp"
#include "vkgrad/vk/context.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>

namespace vkgrad::bench {

nlohmann::json run_attention_bench(const AttentionBenchOptions& o) {
  if (o.precision != "mixed" && o.precision != "fp32")
    throw Error("unknown --precision '" + o.precision + "'", "use mixed or fp32");
  for (const auto& k : o.kernels)
    if (k != "fused" && k != "composed")
      throw Error("unknown attention kernel '" + k + "'", "use fused, composed or both (--kernels fused,composed)");
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
  return {{"device", ctx.caps().name}, {"precision", o.precision}, {"rows", rows}};
}

}  // namespace vkgrad::bench
