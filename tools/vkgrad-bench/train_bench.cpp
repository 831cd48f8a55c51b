#include "train_bench.hpp"

#include "vkgrad/error.hpp"
#include "vkgrad/graph/gpt.hpp"
#include "vkgrad/graph/sequential.hpp"
#include "vkgrad/io/safetensors.hpp"
#include "vkgrad/kernels/hash_grid.hpp"
#include "vkgrad/train/trainer.hpp"
#include "vkgrad/vk/context.hpp"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <random>
#include <unistd.h>

namespace vkgrad::bench {
namespace {

graph::Activation activation_of(const std::string& name) {
  if (name == "relu") return graph::Activation::Relu;
  if (name == "gelu") return graph::Activation::Gelu;
  if (name == "gelu_tanh") return graph::Activation::GeluTanh;
  if (name == "tanh" || name == "sigmoid") return graph::Activation::None;  // separate ops below
  throw Error("unknown --activation '" + name + "'", "use relu, gelu, gelu_tanh, tanh or sigmoid");
}

// fashion_mnist's CNN (demos/fashion_mnist): two 3×3 convolutions with fused ReLU, each
// followed by 2×2 max pooling, then fc 128 and fc `classes`, over square single-channel images
// of layers.front() pixels.
graph::Graph cnn(const TrainBenchOptions& o) {
  const auto side = uint32_t(std::lround(std::sqrt(double(o.layers.front()))));
  if (o.layers.size() != 2 || side * side != o.layers.front() || side % 4 != 0 || o.loss != "cross_entropy")
    throw Error("--model cnn takes --layers PIXELS CLASSES with square images of a side divisible by 4, and "
                "cross_entropy",
                "e.g. --layers 784 10");
  graph::Graph g;
  const auto x = g.input("x", {1, side, side});
  const auto y = g.labels("y");
  graph::Sequential features(g, x, "features");
  features.conv2d(32, 3, {.padding = 1}).relu().max_pool2d(2).conv2d(64, 3, {.padding = 1}).relu().max_pool2d(2);
  graph::Sequential classifier(g, features.output(), "classifier");
  g.cross_entropy(classifier.flatten().linear(128).relu().linear(o.layers.back()).output(), y);
  return g;
}

// neural_image's hash-grid model: coordinates [layers.front()] in [0, 1] through the hash
// encoding (16 levels × 2 features, table 2^19, resolutions 16 to 128), then a ReLU MLP of the
// remaining --layers and a sigmoid; the table in its own parameter group at 10× the learning rate.
graph::Graph hash_grid_mlp(const TrainBenchOptions& o) {
  if (o.layers.size() < 2 || o.layers.front() > 3 || o.loss != "mse")
    throw Error("--model hashgrid takes --layers DIMS ... OUT with 1 to 3 coordinate dims, and mse",
                "e.g. --layers 2,128,128,128,3 --loss mse");
  graph::Graph g;
  const auto x = g.input("x", {o.layers[0]});
  auto h = g.hash_grid(x, "encoding", {.growth = kernels::hash_grid_growth(16, 128, 16)});
  for (size_t l = 1; l < o.layers.size(); ++l) {
    const bool last = l + 1 == o.layers.size();
    h = g.linear(h, o.layers[l], "layers." + std::to_string(l - 1),
                 last ? graph::Activation::None : graph::Activation::Relu);
  }
  g.mse(g.sigmoid(h), g.input("y", {o.layers.back()}));
  return g;
}

// char_transformer's GPT (graph::gpt): --layers VOCAB CONTEXT LAYERS DIM HEADS.
graph::Graph transformer(const TrainBenchOptions& o) {
  if (o.layers.size() != 5 || o.loss != "cross_entropy")
    throw Error("--model transformer takes --layers VOCAB,CONTEXT,LAYERS,DIM,HEADS and cross_entropy",
                "e.g. --layers 114,64,2,128,4");
  const auto impl = graph::attention_impl_from_name(o.attention);
  if (!impl) throw Error("unknown --attention '" + o.attention + "'", "use auto, fused or composed");
  return graph::gpt({o.layers[0], o.layers[1], o.layers[2], o.layers[3], o.layers[4], 0.0f, *impl});
}

// The MLP as PyTorch's `self.layers = nn.ModuleList([nn.Linear, ...])` with the activation
// between layers.
graph::Graph mlp(const TrainBenchOptions& o) {
  if (o.layers.size() < 2) throw Error("--layers needs at least an input and an output size", "e.g. 784,512,10");
  const bool ce = o.loss == "cross_entropy";
  if (!ce && o.loss != "mse") throw Error("unknown --loss '" + o.loss + "'", "use cross_entropy or mse");
  graph::Graph g;
  graph::Tensor h = g.input("x", {o.layers[0]});
  const graph::Tensor y = ce ? g.labels("y") : g.input("y", {o.layers.back()});
  const auto act = activation_of(o.activation);
  for (size_t l = 0; l + 1 < o.layers.size(); ++l) {
    const bool last = l + 2 == o.layers.size();
    h = g.linear(h, o.layers[l + 1], "layers." + std::to_string(l), last ? graph::Activation::None : act);
    if (!last && o.activation == "tanh") h = g.tanh(h);
    if (!last && o.activation == "sigmoid") h = g.sigmoid(h);
  }
  if (ce)
    g.cross_entropy(h, y);
  else
    g.mse(h, y);
  return g;
}

train::OptimizerConfig optimizer_of(const TrainBenchOptions& o) {
  if (o.optimizer == "sgd") return train::OptimizerConfig::sgd(o.lr, o.momentum);
  if (o.optimizer == "adam") return train::OptimizerConfig::adam(o.lr);
  if (o.optimizer == "adamw") return train::OptimizerConfig::adamw(o.lr);
  throw Error("unknown --optimizer '" + o.optimizer + "'", "use sgd, adam or adamw");
}

// Samples consumed in order: x [S, in] floats and y as labels or targets.
struct Samples {
  uint32_t count = 0;
  std::vector<float> x, targets;
  std::vector<int32_t> labels;
};

Samples synthetic(const TrainBenchOptions& o) {
  Samples s;
  s.count = o.batch * 4;
  std::mt19937 rng(uint32_t(o.seed) + 1);
  if (o.model == "transformer") {  // token ids and next-token targets, [count, context] each
    s.labels.resize(2 * size_t(s.count) * o.layers[1]);
    for (auto& l : s.labels) l = int32_t(rng() % o.layers[0]);
    return s;
  }
  std::uniform_real_distribution<float> u(-1.0f, 1.0f), coordinate(0.0f, 1.0f);
  s.x.resize(size_t(s.count) * o.layers[0]);
  for (float& v : s.x) v = o.model == "hashgrid" ? coordinate(rng) : u(rng);
  if (o.loss == "cross_entropy") {
    s.labels.resize(s.count);
    for (auto& l : s.labels) l = int32_t(rng() % o.layers.back());
  } else {
    s.targets.resize(size_t(s.count) * o.layers.back());
    for (float& v : s.targets) v = u(rng);
  }
  return s;
}

Samples from_file(const TrainBenchOptions& o) {
  const auto file = io::SafetensorsFile::load(o.data);
  Samples s;
  const auto& x = file.tensor("x");
  if (x.shape.size() != 2 || x.shape[1] != o.layers[0])
    throw Error(o.data + ": x must be [S, " + std::to_string(o.layers[0]) + "]", "match --layers to the data");
  s.count = uint32_t(x.shape[0]);
  s.x = file.to_f32("x");
  const auto& y = file.tensor("y");
  if (o.loss == "cross_entropy") {
    if (y.shape.size() != 1 || y.shape[0] != s.count)
      throw Error(o.data + ": y must be [S] class indices for cross_entropy", "store int32 or int64 labels");
    for (int64_t v : file.to_i64("y")) s.labels.push_back(int32_t(v));
  } else {
    if (y.shape.size() != 2 || y.shape[0] != s.count || y.shape[1] != o.layers.back())
      throw Error(o.data + ": y must be [S, " + std::to_string(o.layers.back()) + "] for mse", "match --layers");
    s.targets = file.to_f32("y");
  }
  return s;
}

// GPU time per pass and per kernel, averaged over `steps` steps of a second trainer that
// records timestamps (kept apart so that they do not slow the timed run).
nlohmann::json profile_passes(vk::Context& ctx, const graph::Graph& g, train::TrainerCreateInfo info, uint32_t steps,
                              const std::function<train::Batch(uint32_t)>& batch_at) {
  info.profile = true;
  train::Trainer t(ctx, g, info);
  t.step(batch_at(0));  // compiles pipelines on first use
  std::map<std::string, double> pass_ms;
  std::map<std::string, std::map<std::string, double>> kernel_ms;
  std::vector<std::string> order;
  for (uint32_t s = 0; s < steps; ++s) {
    t.step(batch_at(s + 1));
    for (const auto& p : t.profile()) {
      if (!pass_ms.contains(p.pass)) order.push_back(p.pass);
      pass_ms[p.pass] += p.ms / steps;
      for (const auto& [label, ms] : p.dispatches) kernel_ms[p.pass][label] += ms / steps;
    }
  }
  nlohmann::json out = nlohmann::json::array();
  std::fprintf(stderr, "  GPU time per step (timestamps, mean of %u steps):\n", steps);
  for (const auto& pass : order) {
    nlohmann::json kernels = nlohmann::json::object();
    std::string detail;
    for (const auto& [label, ms] : kernel_ms[pass]) {
      kernels[label] = ms;
      char buf[96];
      std::snprintf(buf, sizeof buf, "%s%s %.2f", detail.empty() ? "" : ", ", label.c_str(), ms);
      detail += buf;
    }
    out.push_back({{"pass", pass}, {"ms", pass_ms[pass]}, {"kernels_ms", kernels}});
    std::fprintf(stderr, "    %-10s %8.2f ms  (%s)\n", pass.c_str(), pass_ms[pass], detail.c_str());
  }
  return out;
}

// The model, trainer settings and data of a run, as the options give them (shared by train and
// soak). `batch_at(step)` cycles through the samples.
struct Run {
  explicit Run(const TrainBenchOptions& options)
      : o(options), graph(model_of(options)), samples(options.data.empty() ? synthetic(options) : from_file(options)) {
    info.batch_size = o.batch;
    info.precision = o.precision == "mixed" ? train::Precision::Mixed : train::Precision::Fp32;
    info.optimizer = optimizer_of(o);
    if (o.model == "hashgrid") info.optimizer.groups.push_back({.prefix = "encoding.", .lr = 10 * o.lr});
    info.seed = o.seed;
    batches = samples.count / o.batch;  // a partial final batch is dropped
    if (batches == 0)
      throw Error("the data has " + std::to_string(samples.count) + " samples, fewer than one batch of " +
                      std::to_string(o.batch),
                  "lower --batch");
  }

  static graph::Graph model_of(const TrainBenchOptions& o) {
    if (o.precision != "mixed" && o.precision != "fp32")
      throw Error("unknown --precision '" + o.precision + "'", "use mixed or fp32");
    if (o.model != "mlp" && o.model != "cnn" && o.model != "hashgrid" && o.model != "transformer")
      throw Error("unknown --model '" + o.model + "'", "use mlp, cnn, hashgrid or transformer");
    return o.model == "cnn" ? cnn(o) : o.model == "hashgrid" ? hash_grid_mlp(o) : o.model == "transformer" ? transformer(o) : mlp(o);
  }

  void describe(const char* what, const vk::Context& ctx) const {
    std::string sizes;
    for (uint32_t l : o.layers) sizes += (sizes.empty() ? "" : "-") + std::to_string(l);
    std::fprintf(stderr, "%s: %s %s, batch %u, %s, %s on %s\n", what, o.model.c_str(), sizes.c_str(), o.batch,
                 o.precision.c_str(), o.optimizer.c_str(), ctx.caps().name.c_str());
  }

  train::Batch batch_at(uint32_t step) const {
    const uint32_t b = step % batches, in = o.layers[0], out = o.layers.back();
    train::Batch batch;
    batch.rows = o.batch;
    if (o.model == "transformer") {
      const size_t window = size_t(o.batch) * o.layers[1], half = samples.labels.size() / 2;
      const std::span<const int32_t> ids(samples.labels);
      batch.feeds = {{{}, ids.subspan(b * window, window)}, {{}, ids.subspan(half + b * window, window)}};
    } else {
      batch.feeds.push_back({std::span(samples.x).subspan(size_t(b) * o.batch * in, size_t(o.batch) * in)});
      if (!samples.labels.empty())
        batch.feeds.push_back({{}, std::span(samples.labels).subspan(size_t(b) * o.batch, o.batch)});
      else
        batch.feeds.push_back(
            {std::span(samples.targets).subspan(size_t(b) * o.batch * out, size_t(o.batch) * out)});
    }
    batch.inject_nonfinite_gradient =
        std::find(o.inject_nonfinite.begin(), o.inject_nonfinite.end(), step) != o.inject_nonfinite.end();
    return batch;
  }

  const TrainBenchOptions& o;
  graph::Graph graph;
  Samples samples;
  train::TrainerCreateInfo info;
  uint32_t batches = 0;
};

}  // namespace

nlohmann::json run_train_bench(const TrainBenchOptions& global, dist::Communicator* comm) {
  // Data parallel: each rank its share of the batch (its own synthetic samples) and no profile
  // (a second trainer would need the other ranks too).
  TrainBenchOptions o = global;
  const uint32_t ranks = comm ? comm->size() : 1;
  if (comm) {
    if (global.batch < ranks)
      throw Error("--batch " + std::to_string(global.batch) + " is smaller than the " + std::to_string(ranks) + " ranks",
                  "give every rank at least one row");
    o.batch = global.batch / ranks;
    o.seed = global.seed + comm->rank();
    o.profile_steps = 0;
  }
  vk::Context ctx;
  Run run(o);
  run.info.communicator = comm;
  run.info.gradient_bucket_bytes = std::max<uint64_t>(4, uint64_t(o.bucket_mib * (1 << 20)));
  const graph::Graph& g = run.graph;
  const train::TrainerCreateInfo& info = run.info;
  run.describe("train", ctx);
  train::Trainer t(ctx, g, info);
  if (!o.init.empty()) {
    const auto file = io::SafetensorsFile::load(o.init);
    for (const auto& name : t.parameter_names()) t.set_parameter(name, file.to_f32(name));
  }
  const auto batch_at = [&](uint32_t step) { return run.batch_at(step); };

  std::optional<std::ofstream> trace;
  if (!o.trace.empty()) {
    trace.emplace(o.trace);
    if (!*trace) throw Error("cannot write the trace file " + o.trace, "check the path");
  }
  const auto write_trace = [&] {
    if (!trace) return;
    for (const auto& m : t.take_history())
      *trace << nlohmann::json{{"step", m.steps - 1}, {"loss", m.loss}, {"loss_scale", m.loss_scale},
                               {"skipped", m.skipped}}.dump()
             << '\n';
  };

  const uint32_t warmup = std::min(o.warmup, o.steps);
  for (uint32_t s = 0; s < warmup; ++s) {
    t.step(batch_at(s));
    write_trace();
  }
  (void)t.metrics(train::Wait::Yes);
  write_trace();
  const auto before = t.counters();
  const auto t0 = std::chrono::steady_clock::now();
  for (uint32_t s = warmup; s < o.steps; ++s) {
    t.step(batch_at(s));
    write_trace();
    if ((s + 1) % 10 == 0) std::fprintf(stderr, "  step %u/%u\r", s + 1, o.steps);
  }
  const auto during = t.counters();
  const auto m = t.metrics(train::Wait::Yes);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  write_trace();
  const uint32_t timed = o.steps - warmup;
  const auto per_step = [&](uint64_t a, uint64_t b) { return timed ? double(a - b) / timed : 0.0; };
  const auto bytes = [&](graph::MemoryCategory c) { return during.device_bytes[size_t(c)]; };
  nlohmann::json j = {
      {"device", ctx.caps().name},
      {"model", o.model},
      {"layers", o.layers},
      {"batch", o.batch},
      {"precision", o.precision},
      {"attention", o.attention},
      {"optimizer", o.optimizer},
      {"steps", o.steps},
      {"timed_steps", timed},
      {"seconds", seconds},
      {"steps_per_s", timed ? timed / seconds : 0.0},
      {"samples_per_s", timed ? double(timed) * o.batch / seconds : 0.0},
      {"submits_per_step", per_step(during.submits, before.submits)},
      {"host_reads_per_step", per_step(during.blocking_reads, before.blocking_reads)},
      {"backpressure_waits", during.backpressure_waits - before.backpressure_waits},
      {"pipeline_creations_after_warmup", during.pipeline_creations - before.pipeline_creations},
      {"parameter_bytes", bytes(graph::MemoryCategory::Parameters)},
      {"gradient_bytes", bytes(graph::MemoryCategory::Gradients)},
      {"optimizer_bytes", bytes(graph::MemoryCategory::OptimizerState)},
      {"activation_bytes", bytes(graph::MemoryCategory::Activations)},
      {"workspace_bytes", bytes(graph::MemoryCategory::Workspace)},
      {"planned_arena_bytes", during.planned_arena_bytes},
      {"final_loss", m.loss},
      {"loss_scale", m.loss_scale},
      {"skipped_steps", m.skipped_steps},
      {"nonfinite_losses", m.nonfinite_losses},
  };
  if (comm) {
    const auto ms_per_step = [&](double after, double earlier) { return timed ? 1000 * (after - earlier) / timed : 0.0; };
    const double exchange_ms = ms_per_step(during.exchange_wait_seconds, before.exchange_wait_seconds);
    const double allreduce_ms = ms_per_step(during.allreduce_seconds, before.allreduce_seconds);
    const double hidden_ms = ms_per_step(during.allreduce_hidden_seconds, before.allreduce_hidden_seconds);
    j["ranks"] = ranks;
    j["batch"] = global.batch;
    j["samples_per_s_per_rank"] = j["samples_per_s"];
    j["samples_per_s"] = j["samples_per_s"].get<double>() * ranks;
    j["gradient_buckets"] = during.gradient_buckets;
    j["bucket_mib"] = o.bucket_mib;
    j["exchange_wait_ms_per_step"] = exchange_ms;
    j["allreduce_ms_per_step"] = allreduce_ms;
    j["allreduce_hidden_ms_per_step"] = hidden_ms;
    j["allreduce_hidden_fraction"] = allreduce_ms > 0 ? hidden_ms / allreduce_ms : 0.0;
    std::fprintf(stderr,
                 "  data parallel, %u ranks: %.0f samples/s per rank, %.0f in total; per step %.2f ms on the host waiting "
                 "for the backward pass and the sums, the sums of %u bucket(s) in flight %.2f ms, %.0f%% of it hidden behind "
                 "the backward pass\n",
                 ranks, j["samples_per_s_per_rank"].get<double>(), j["samples_per_s"].get<double>(), exchange_ms,
                 during.gradient_buckets, allreduce_ms, 100 * j["allreduce_hidden_fraction"].get<double>());
  }
  std::fprintf(stderr, "  %u steps in %.2f s: %.2f steps/s, %.0f samples/s, final loss %.4f, scale %g, skipped %llu\n",
               timed, seconds, j["steps_per_s"].get<double>(), j["samples_per_s"].get<double>(), m.loss,
               m.loss_scale, static_cast<unsigned long long>(m.skipped_steps));
  if (o.profile_steps > 0) j["passes"] = profile_passes(ctx, g, info, o.profile_steps, batch_at);
  return j;
}

namespace {

// What a long run must keep flat, read from the device and the process.
struct Footprint {
  uint64_t device_bytes = 0;  // the Context's allocator's blocks
  uint64_t heap_usage = 0;    // VK_EXT_memory_budget's usage over every heap (other processes' too)
  uint64_t rss_bytes = 0;     // /proc/self/statm
  uint64_t open_fds = 0;      // /proc/self/fd
  uint64_t pipelines = 0;     // created by the Context's registry
};

Footprint footprint(vk::Context& ctx) {
  Footprint f;
  f.device_bytes = ctx.allocated_bytes();
  for (const auto& h : ctx.memory_heaps()) f.heap_usage += h.usage;
  std::ifstream statm("/proc/self/statm");
  uint64_t size = 0, resident = 0;
  statm >> size >> resident;
  f.rss_bytes = resident * uint64_t(sysconf(_SC_PAGESIZE));
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec); !ec && it != std::filesystem::directory_iterator();
       it.increment(ec))
    ++f.open_fds;
  f.pipelines = ctx.pipelines().stats().created;
  return f;
}

nlohmann::json to_json(uint64_t step, const Footprint& f) {
  return {{"step", step},           {"device_bytes", f.device_bytes}, {"heap_usage_bytes", f.heap_usage},
          {"rss_bytes", f.rss_bytes}, {"open_fds", f.open_fds},
          {"pipelines", f.pipelines}};
}

}  // namespace

nlohmann::json run_soak(const TrainBenchOptions& o, uint32_t sample_every) {
  vk::Context ctx;
  const Run run(o);
  run.describe("soak", ctx);
  train::Trainer t(ctx, run.graph, run.info);
  const uint32_t every = std::max(sample_every, 1u);
  nlohmann::json samples = nlohmann::json::array();
  std::optional<Footprint> warm;
  Footprint last;
  const auto t0 = std::chrono::steady_clock::now();
  const auto mib = [](uint64_t b) { return double(b) / (1 << 20); };
  for (uint32_t s = 0; s < o.steps; ++s) {
    t.step(run.batch_at(s));
    if ((s + 1) % every != 0 && s + 1 != o.steps) continue;
    const auto m = t.metrics(train::Wait::Yes);
    last = footprint(ctx);
    if (!warm) warm = last;  // the first sample: pipelines compiled, rings and caches full
    samples.push_back(to_json(s + 1, last));
    samples.back()["loss"] = m.loss;
    std::fprintf(stderr, "  step %6u  device %8.2f MiB  rss %8.2f MiB  fds %3llu  pipelines %3llu  loss %.4f\n", s + 1,
                 mib(last.device_bytes), mib(last.rss_bytes), (unsigned long long)last.open_fds,
                 (unsigned long long)last.pipelines, m.loss);
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const auto growth = [&](uint64_t Footprint::*f) { return int64_t(last.*f) - int64_t(*warm.*f); };
  nlohmann::json j = {{"device", ctx.caps().name},
                      {"model", o.model},
                      {"layers", o.layers},
                      {"batch", o.batch},
                      {"precision", o.precision},
                      {"steps", o.steps},
                      {"seconds", seconds},
                      {"steps_per_s", o.steps / seconds},
                      {"samples", samples},
                      {"after_warmup", samples.front()},
                      {"end", samples.back()},
                      {"growth", {{"device_bytes", growth(&Footprint::device_bytes)},
                                  {"rss_bytes", growth(&Footprint::rss_bytes)},
                                  {"open_fds", growth(&Footprint::open_fds)},
                                  {"pipelines", growth(&Footprint::pipelines)}}}};
  std::fprintf(stderr,
               "  %u steps in %.1f s; from step %u to the end: device %+lld bytes, rss %+lld bytes, fds %+lld, "
               "pipelines %+lld\n",
               o.steps, seconds, every, (long long)growth(&Footprint::device_bytes), (long long)growth(&Footprint::rss_bytes),
               (long long)growth(&Footprint::open_fds), (long long)growth(&Footprint::pipelines));
  return j;
}

}  // namespace vkgrad::bench
