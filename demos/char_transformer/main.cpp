// char_transformer: a byte-level GPT trained on Debian's fortune cookies (or --text FILE). Random
// 64-byte windows of the first 90 % train it (AdamW, mixed precision by default); every
// --eval-every steps the whole last 10 %, cut into non-overlapping windows, gives the validation
// loss, printed beside the unigram and bigram baselines. At the end it samples text from the
// model (the same graph, evaluation mode, on the device) and leaves a run folder with
// metrics.jsonl, a loss curve and the checkpoint. `--json` prints one summary on stdout.
#include "corpus.hpp"
#include "vkgrad/error.hpp"
#include "vkgrad/graph/gpt.hpp"
#include "vkgrad/io/checkpoint.hpp"
#include "vkgrad/train/trainer.hpp"
#include "vkgrad/vk/context.hpp"

#include <CLI/CLI.hpp>
#include <vkgrad_cli/checks.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>

namespace {

using namespace vkgrad;
namespace fs = std::filesystem;

struct Options {
  std::string fortunes = "/usr/share/games/fortunes";
  std::string text;  // instead of the fortunes
  uint32_t steps = 1000;
  uint32_t layers = 2, dim = 128, heads = 4, context = 64, batch = 64;
  float lr = 3e-3f, weight_decay = 0.01f, dropout = 0.0f;
  uint32_t eval_every = 250;
  std::string precision = "mixed";
  std::string attention = "auto";  // graph::AttentionImpl
  uint64_t seed = 0;
  std::string prompt;  // empty: the validation text's first byte
  float temperature = 0.8f;
  uint32_t sample_bytes = 300;
  std::string out, resume, export_state_dict;
  bool json = false;
};

std::string timestamp() {
  const std::time_t now = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%d-%H%M%S", std::localtime(&now));
  return buf;
}

// Token ids of text[start, start + n).
void encode(const std::string& text, size_t start, uint32_t n, const Vocabulary& v, int32_t* out) {
  for (uint32_t i = 0; i < n; ++i) out[i] = v.id[uint8_t(text[start + i])];
}

// Mean loss over the validation text cut into non-overlapping windows (and their next bytes).
double validation_loss(train::Trainer& t, const std::string& val, const Vocabulary& v, uint32_t context) {
  const size_t windows = (val.size() - 1) / context;
  std::vector<int32_t> idx, targets;
  double sum = 0;
  for (size_t w0 = 0; w0 < windows; w0 += t.batch_size()) {
    const auto rows = uint32_t(std::min<size_t>(t.batch_size(), windows - w0));
    idx.resize(size_t(rows) * context);
    targets.resize(idx.size());
    for (uint32_t r = 0; r < rows; ++r) {
      encode(val, (w0 + r) * context, context, v, &idx[size_t(r) * context]);
      encode(val, (w0 + r) * context + 1, context, v, &targets[size_t(r) * context]);
    }
    sum += double(t.evaluate({rows, {{{}, idx}, {{}, targets}}}).loss) * rows;
  }
  return sum / double(windows);
}

// `bytes` bytes after the prompt, each drawn from softmax(logits / temperature) at the last
// position of the newest `context` bytes (a one-row trainer holding the trained parameters).
std::string sample(train::Trainer& one, const Options& o, const std::string& prompt, const Vocabulary& v,
                   std::mt19937_64& rng) {
  std::string text = prompt;
  for (char c : text)
    if (v.id[uint8_t(c)] < 0) throw Error("the prompt has a byte the corpus lacks", "use text from the corpus");
  std::vector<int32_t> idx(o.context, 0), targets(o.context, 0);
  const uint32_t vocab = v.size();
  for (uint32_t i = 0; i < o.sample_bytes; ++i) {
    const size_t n = std::min<size_t>(text.size(), o.context);
    encode(text, text.size() - n, uint32_t(n), v, idx.data());
    const auto logits = one.predict({1, {{{}, idx}, {{}, targets}}});
    const float* last = &logits[(n - 1) * vocab];
    std::vector<double> p(vocab);
    const double m = *std::max_element(last, last + vocab);
    for (uint32_t k = 0; k < vocab; ++k) p[k] = std::exp((last[k] - m) / std::max(o.temperature, 1e-3f));
    text += char(v.bytes[std::discrete_distribution<uint32_t>(p.begin(), p.end())(rng)]);
  }
  return text.substr(prompt.size());
}

bool plot(const std::vector<std::pair<uint64_t, double>>& train_curve,
          const std::vector<std::pair<uint64_t, double>>& val_curve, const fs::path& dir, const std::string& title) {
  const auto png = dir / "loss.png", script = dir / "loss.gp";
  {
    std::ofstream tr(dir / "train_loss.dat"), va(dir / "val_loss.dat"), g(script);
    for (const auto& [s, l] : train_curve) tr << s << ' ' << l << '\n';
    for (const auto& [s, l] : val_curve) va << s << ' ' << l << '\n';
    g << "set terminal pngcairo size 900,500 font 'sans,10' noenhanced\nset output '" << png.string() << "'\n"
      << "set title '" << title << "'\nset xlabel 'step'\nset ylabel 'loss (nats/byte)'\nset grid\n"
      << "plot '" << (dir / "train_loss.dat").string() << "' using 1:2 with lines title 'train (step)', '"
      << (dir / "val_loss.dat").string() << "' using 1:2 with linespoints title 'validation'\n";
  }
  return std::system(("gnuplot '" + script.string() + "' 2>/dev/null").c_str()) == 0 && fs::exists(png);
}

int run(const Options& o) {
  const auto t_start = std::chrono::steady_clock::now();
  const std::string corpus = o.text.empty() ? load_fortunes(o.fortunes) : load_text(o.text);
  const size_t cut = corpus.size() * 9 / 10;
  const std::string train_text = corpus.substr(0, cut), val_text = corpus.substr(cut);
  if (train_text.size() < o.context + 1 || val_text.size() < o.context + 1)
    throw Error("the text has " + std::to_string(corpus.size()) + " bytes: too little for windows of " +
                    std::to_string(o.context),
                "use a longer text or a shorter --context");
  const Vocabulary vocab(corpus);
  const Baselines base = baselines(train_text, val_text, vocab);

  const fs::path run_dir = o.out.empty() ? fs::path("runs") / ("char_transformer-" + timestamp()) : fs::path(o.out);
  fs::create_directories(run_dir);
  vk::Context ctx;
  train::TrainerCreateInfo info;
  info.batch_size = o.batch;
  info.precision = o.precision == "fp32" ? train::Precision::Fp32 : train::Precision::Mixed;
  info.optimizer = train::OptimizerConfig::adamw(o.lr, o.weight_decay);
  info.seed = o.seed;
  info.ring_slots = 3;
  // The model and its PyTorch twin: include/vkgrad/graph/gpt.hpp.
  const graph::Graph g = graph::gpt(
      {vocab.size(), o.context, o.layers, o.dim, o.heads, o.dropout, *graph::attention_impl_from_name(o.attention)});
  train::Trainer trainer(ctx, g, info);
  std::fprintf(stderr,
               "char_transformer: %zu bytes (%zu train, %zu validation), vocabulary %u; GPT %u×%u, %u heads, "
               "context %u, batch %u, %s precision on %s\n  baselines on validation: unigram %.3f, bigram %.3f "
               "nats/byte; run folder %s\n",
               corpus.size(), train_text.size(), val_text.size(), vocab.size(), o.layers, o.dim, o.heads, o.context,
               o.batch, o.precision.c_str(), ctx.caps().name.c_str(), base.unigram, base.bigram,
               run_dir.string().c_str());

  const std::string model_tag = "gpt-" + std::to_string(o.layers) + "x" + std::to_string(o.dim);
  uint64_t first_step = 0;
  if (!o.resume.empty()) {
    io::Metadata meta;
    auto state = io::load_checkpoint(o.resume, &meta);
    if (meta["model"] != model_tag)
      throw Error("the checkpoint " + o.resume + " is of the " + meta["model"] + " model, not " + model_tag,
                  "resume with the --layers and --dim it was trained with");
    trainer.load_state(state);
    first_step = std::stoull(meta.at("step"));
    std::fprintf(stderr, "resumed from %s at step %llu\n", o.resume.c_str(), (unsigned long long)first_step);
  }

  std::ofstream metrics_file(run_dir / "metrics.jsonl", std::ios::app);
  std::vector<std::pair<uint64_t, double>> train_curve, val_curve;
  nlohmann::json evaluations = nlohmann::json::array();
  std::vector<int32_t> idx(size_t(o.batch) * o.context), targets(idx.size());
  train::Metrics last;
  double train_seconds = 0;
  auto t0 = std::chrono::steady_clock::now();
  auto drawn = t0;
  const auto absorb = [&] {
    for (const auto& m : trainer.take_history()) {
      if (!m.skipped) train_curve.emplace_back(m.steps, m.loss);
      last = m;
    }
  };
  const auto evaluate = [&](uint64_t step) {
    (void)trainer.metrics(train::Wait::Yes);
    absorb();
    train_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double val = validation_loss(trainer, val_text, vocab, o.context);
    val_curve.emplace_back(step, val);
    const nlohmann::json line = {{"step", step},           {"val_loss", val},          {"train_loss", last.loss},
                                 {"loss_scale", last.loss_scale}, {"skipped_steps", last.skipped_steps},
                                 {"seconds", train_seconds}};
    evaluations.push_back(line);
    metrics_file << line.dump() << '\n' << std::flush;
    std::fprintf(stderr, "\rstep %5llu  validation loss %.4f (unigram %.3f, bigram %.3f)%30s\n",
                 (unsigned long long)step, val, base.unigram, base.bigram, "");
    io::save_checkpoint(run_dir / "checkpoint.safetensors", trainer.save_state(),
                        {{"step", std::to_string(step)}, {"model", model_tag}, {"precision", o.precision}});
    t0 = std::chrono::steady_clock::now();
  };

  for (uint64_t step = first_step; step < o.steps; ++step) {
    // Windows drawn from (seed, step) alone, so that a resumed run sees the same data.
    std::mt19937_64 rng(o.seed * 0x9E3779B97F4A7C15ull + step);
    std::uniform_int_distribution<size_t> start(0, train_text.size() - o.context - 1);
    for (uint32_t r = 0; r < o.batch; ++r) {
      const size_t s = start(rng);
      encode(train_text, s, o.context, vocab, &idx[size_t(r) * o.context]);
      encode(train_text, s + 1, o.context, vocab, &targets[size_t(r) * o.context]);
    }
    trainer.step({o.batch, {{{}, idx}, {{}, targets}}});
    absorb();
    const auto now = std::chrono::steady_clock::now();
    if (now - drawn > std::chrono::milliseconds(500)) {
      drawn = now;
      const double s = train_seconds + std::chrono::duration<double>(now - t0).count();
      const double tokens = double(step + 1 - first_step) * o.batch * o.context;
      std::fprintf(stderr, "\rstep %5llu/%u  loss %.4f  %7.0f tokens/s  scale %g  skipped %llu   ",
                   (unsigned long long)(step + 1), o.steps, last.loss, tokens / s, last.loss_scale,
                   (unsigned long long)last.skipped_steps);
    }
    if ((step + 1) % o.eval_every == 0 || step + 1 == o.steps) evaluate(step + 1);
  }

  const double final_val = val_curve.empty() ? NAN : val_curve.back().second;
  train::TrainerCreateInfo one_info = info;
  one_info.batch_size = 1;
  train::Trainer one(ctx, g, one_info);
  for (const auto& name : trainer.parameter_names()) one.set_parameter(name, trainer.parameter(name));
  std::mt19937_64 sample_rng(o.seed + 1);
  const std::string text = sample(one, o, o.prompt.empty() ? val_text.substr(0, 1) : o.prompt, vocab, sample_rng);
  std::ofstream(run_dir / "sample.txt") << text;
  std::fprintf(stderr, "sample (temperature %g):\n%s\n", double(o.temperature), text.c_str());

  if (!o.export_state_dict.empty()) io::export_state_dict(o.export_state_dict, trainer.save_state());
  const bool plotted = plot(train_curve, val_curve, run_dir, "vkgrad char_transformer: " + model_tag + ", " + o.precision);
  const double steps_done = double(o.steps - first_step);
  std::fprintf(stderr, "validation loss %.4f after %u steps; %.1f s training (%.2f steps/s); run folder %s%s\n",
               final_val, o.steps, train_seconds, steps_done / train_seconds, run_dir.string().c_str(),
               plotted ? "" : " (no plot: gnuplot failed)");
  if (o.json) {
    std::cout << nlohmann::json{{"val_loss", evaluations},
                                {"final_val_loss", final_val},
                                {"baselines", {{"unigram", base.unigram}, {"bigram", base.bigram}}},
                                {"steps", o.steps},
                                {"steps_per_s", steps_done / train_seconds},
                                {"tokens_per_s", steps_done * o.batch * o.context / train_seconds},
                                {"skipped_steps", last.skipped_steps},
                                {"final_loss_scale", last.loss_scale},
                                {"precision", o.precision},
                                {"device", ctx.caps().name},
                                {"sample", text},
                                {"seconds", std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count()},
                                {"run_dir", run_dir.string()},
                                {"plot", plotted ? (run_dir / "loss.png").string() : ""}}
                     .dump(2)
              << '\n';
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"char_transformer: a byte-level GPT on Debian's fortune cookies, trained with vkgrad"};
  Options o;
  app.add_option("--fortunes", o.fortunes, "folder of fortune files (Debian's fortunes, fortunes-min)");
  app.add_option("--text", o.text, "train on this file instead");
  app.add_option("--steps", o.steps, "optimizer steps")->check(CLI::Range(1u, 10000000u));
  app.add_option("--layers", o.layers, "transformer blocks")->check(CLI::Range(1u, 64u));
  app.add_option("--dim", o.dim, "model width")->check(CLI::Range(2u, 4096u));
  app.add_option("--heads", o.heads, "attention heads (dividing --dim)")->check(CLI::Range(1u, 64u));
  app.add_option("--context", o.context, "bytes per window")->check(CLI::Range(2u, 4096u));
  app.add_option("--batch", o.batch, "windows per step")->check(CLI::Range(1u, 4096u));
  app.add_option("--lr", o.lr, "AdamW learning rate (constant)")->check(cli::finite_range(0, 1e30));
  app.add_option("--weight-decay", o.weight_decay, "AdamW weight decay")->check(cli::finite_range(0, 1e3));
  app.add_option("--dropout", o.dropout, "dropout after the embeddings and each residual branch")
      ->check(cli::finite_range(0, 0.9));
  app.add_option("--eval-every", o.eval_every, "steps between validation losses")->check(CLI::Range(1u, 10000000u));
  app.add_option("--precision", o.precision, "mixed or fp32")->check(CLI::IsMember({"mixed", "fp32"}));
  app.add_option("--attention", o.attention, "fused, composed, or auto (fused where the head size allows)")
      ->check(CLI::IsMember({"auto", "fused", "composed"}));
  app.add_option("--seed", o.seed, "initialization, data and sampling seed");
  app.add_option("--prompt", o.prompt, "text the sample continues (default: the validation text's first byte)");
  app.add_option("--temperature", o.temperature, "sampling temperature")->check(cli::finite_range(0, 10));
  app.add_option("--sample-bytes", o.sample_bytes, "bytes to sample at the end")->check(CLI::Range(0u, 100000u));
  app.add_option("--out", o.out, "run folder (default runs/char_transformer-TIME)");
  app.add_option("--resume", o.resume, "continue from a checkpoint.safetensors");
  app.add_option("--export-state-dict", o.export_state_dict, "also write the parameters as a PyTorch state_dict");
  app.add_flag("--json", o.json, "one JSON summary on stdout");
  CLI11_PARSE(app, argc, argv);
  try {
    if (o.dim % o.heads != 0) throw Error("--dim must be divisible by --heads", "e.g. --dim 128 --heads 4");
    return run(o);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "char_transformer: %s\n", e.what());
    return 1;
  }
}
