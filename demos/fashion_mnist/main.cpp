// fashion_mnist: vkgrad's main demo. Trains an MLP (784-512-256-10, ReLU) or, with --model cnn,
// a small CNN on Fashion-MNIST (AdamW, mixed precision by default) with fit::fit, which shows
// progress per epoch, evaluates on the test set, and leaves metrics.jsonl and the checkpoint in
// the run folder; this file adds the model, the data, a loss/accuracy plot and `--json`'s summary.
#include "plot.hpp"
#include "vkgrad/dist/communicator.hpp"
#include "vkgrad/error.hpp"
#include "vkgrad/fit/fit.hpp"
#include "vkgrad/graph/sequential.hpp"
#include "vkgrad/io/checkpoint.hpp"
#include "vkgrad/io/idx.hpp"
#include "vkgrad/train/trainer.hpp"
#include "vkgrad/vk/context.hpp"
#if VKGRAD_WITH_MPI
#include "vkgrad/dist/mpi_communicator.hpp"
#endif

#include <CLI/CLI.hpp>
#include <vkgrad_cli/checks.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>

namespace {

using namespace vkgrad;
namespace fs = std::filesystem;

// Fashion-MNIST's training-set pixel statistics (on [0, 1]).
constexpr float kMean = 0.2860f;
constexpr float kStd = 0.3530f;

struct Options {
  std::string data = "/usr/share/datasets/fashion-mnist";
  std::string model = "mlp";
  uint32_t epochs = 0;  // 0: the model's default (mlp 8, cnn 5)
  std::string schedule = "cosine";
  uint32_t batch = 128;
  float lr = 1e-3f;
  uint64_t seed = 0;
  std::string precision = "mixed";
  std::string out;
  std::string resume;
  std::string export_state_dict;
  uint32_t limit = 0;  // use only this many training samples (smoke tests)
  uint32_t max_skipped = 50;
  bool json = false;
  bool data_parallel = false;  // one rank of an MPI job (mpirun -np N fashion_mnist --data-parallel)
};

// --data-parallel: MPI for the whole run (its Init first, its Finalize last), the communicator,
// and the device this rank takes: the local_rank-th of the machine's best kind unless
// VKGRAD_DEVICE names one.
struct Ranks {
  std::unique_ptr<dist::Communicator> comm;
  uint32_t rank = 0, size = 1;
  std::optional<uint32_t> device;
  bool lead() const { return rank == 0; }
};

#if VKGRAD_WITH_MPI
struct MpiSession {
  MpiSession(int& argc, char**& argv) { MPI_Init(&argc, &argv); }
  ~MpiSession() { MPI_Finalize(); }
};

Ranks join_ranks() {
  auto comm = std::make_unique<dist::MpiCommunicator>();
  Ranks r{nullptr, comm->rank(), comm->size(), std::nullopt};
  if (!std::getenv("VKGRAD_DEVICE")) {
    const auto devices = vk::list_devices();
    const auto best = vk::choose_device(devices, {}, {});
    std::vector<uint32_t> same_kind;
    for (const auto& d : devices)
      if (d.type == devices[best].type) same_kind.push_back(d.index);
    r.device = same_kind[comm->local_rank() % same_kind.size()];
  }
  r.comm = std::move(comm);
  return r;
}
#else
Ranks join_ranks() {
  throw Error("--data-parallel: this fashion_mnist was built without MPI", "install libopenmpi-dev and rebuild vkgrad");
}
#endif


fs::path find_file(const fs::path& dir, const std::string& stem) {
  for (const char* ext : {".gz", ""})
    if (fs::exists(dir / (stem + ext))) return dir / (stem + ext);
  throw Error("no " + stem + "[.gz] in " + dir.string(),
              "install Debian's dataset-fashion-mnist or point --data at a folder with the four IDX files");
}

std::string timestamp() {
  const std::time_t now = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%d-%H%M%S", std::localtime(&now));
  return buf;
}

// Parameter names are those of the PyTorch twins:
//   MLP: layers = nn.ModuleList([Linear(784, 512), Linear(512, 256), Linear(256, 10)]), ReLU between
//   CNN: features = nn.Sequential(Conv2d(1, 32, 3, padding=1), ReLU(), MaxPool2d(2),
//                                 Conv2d(32, 64, 3, padding=1), ReLU(), MaxPool2d(2))
//        classifier = nn.Sequential(Flatten(), Linear(3136, 128), ReLU(), Linear(128, 10))
graph::Graph model(const std::string& kind) {
  graph::Graph g;
  // Feeds in the order batches give them: images, then labels.
  auto h = kind == "cnn" ? g.input("x", {1, 28, 28}) : g.input("x", {784});
  const auto y = g.labels("y");
  if (kind == "cnn") {
    graph::Sequential features(g, h, "features");
    features.conv2d(32, 3, {.padding = 1}).relu().max_pool2d(2).conv2d(64, 3, {.padding = 1}).relu().max_pool2d(2);
    graph::Sequential classifier(g, features.output(), "classifier");
    g.cross_entropy(classifier.flatten().linear(128).relu().linear(10).output(), y);
    return g;
  }
  h = g.linear(h, 512, "layers.0", graph::Activation::Relu);
  h = g.linear(h, 256, "layers.1", graph::Activation::Relu);
  g.cross_entropy(g.linear(h, 10, "layers.2"), y);
  return g;
}

int run(Options o, const Ranks& ranks) {
  if (o.epochs == 0) o.epochs = o.model == "cnn" ? 5 : 8;
  if (o.batch < ranks.size)
    throw Error("--batch " + std::to_string(o.batch) + " is smaller than the " + std::to_string(ranks.size) + " ranks",
                "give every rank at least one row of each batch");
  // Only the first rank speaks and writes files; every rank trains and evaluates alike.
  const bool lead = ranks.lead();
  const auto t_start = std::chrono::steady_clock::now();
  const fs::path dir(o.data);
  if (lead) std::fprintf(stderr, "fashion_mnist: loading %s\n", dir.string().c_str());
  io::Dataset train_set = io::load_idx_dataset(find_file(dir, "train-images-idx3-ubyte"), find_file(dir, "train-labels-idx1-ubyte"));
  const io::Dataset test_set = io::load_idx_dataset(find_file(dir, "t10k-images-idx3-ubyte"), find_file(dir, "t10k-labels-idx1-ubyte"));
  if (train_set.rows * train_set.cols != 784 || test_set.rows * test_set.cols != 784)
    throw Error("the images are " + std::to_string(train_set.rows) + "×" + std::to_string(train_set.cols) +
                    ", this model takes 28×28",
                "use Fashion-MNIST or MNIST files");
  if (o.limit > 0 && o.limit < train_set.count) {
    train_set.count = o.limit;
    train_set.images.resize(size_t(o.limit) * 784);
    train_set.labels.resize(o.limit);
  }

  const fs::path run_dir = o.out.empty() ? fs::path("runs") / ("fashion_mnist-" + timestamp()) : fs::path(o.out);
  if (lead) fs::create_directories(run_dir);
  vk::Context ctx({.device_index = ranks.device});
  train::TrainerCreateInfo info;
  info.batch_size = (o.batch + ranks.size - 1) / ranks.size;  // this rank's share of each batch, at most
  info.communicator = ranks.comm.get();
  info.precision = o.precision == "fp32" ? train::Precision::Fp32 : train::Precision::Mixed;
  info.optimizer = train::OptimizerConfig::adamw(o.lr);
  // Cosine decay to zero over the whole run (its last epoch settles the weights).
  if (o.schedule == "cosine")
    info.schedule = {train::ScheduleKind::Cosine, 0, o.epochs * ((train_set.count + o.batch - 1) / o.batch), 0.0f};
  info.seed = o.seed;
  info.ring_slots = 3;
  if (lead && ctx.tuning().enabled() && ctx.tuning().entries().empty())
    std::fprintf(stderr, "measuring GEMM variants on this device, once (kept in %s)\n",
                 ctx.tuning().file().empty() ? "memory" : ctx.tuning().file().string().c_str());
  train::Trainer trainer(ctx, model(o.model), info);
  fit::ImageBatches batches(
      train_set.images, train_set.labels, 784,
      {.batch_size = o.batch, .seed = o.seed, .mean = kMean, .std = kStd, .rank = ranks.rank, .ranks = ranks.size});
  fit::ImageBatches test(test_set.images, test_set.labels, 784,
                         {.batch_size = info.batch_size, .shuffle = false, .mean = kMean, .std = kStd});
  if (lead && ranks.size > 1)
    std::fprintf(stderr, "data parallel: %u ranks, %u of each batch of %u rows on each\n", ranks.size, info.batch_size, o.batch);
  if (lead)
    std::fprintf(stderr, "device: %s; %s, %s precision; %u training, %u test samples; run folder %s\n",
               ctx.caps().name.c_str(), o.model.c_str(), o.precision.c_str(), train_set.count, test_set.count,
               run_dir.string().c_str());

  if (!o.resume.empty()) {
    // The model the checkpoint holds, checked first for a clearer message than a missing tensor.
    io::Metadata saved;
    (void)io::load_checkpoint(o.resume, &saved);
    const auto it = saved.find("model");
    const std::string was = it == saved.end() ? "mlp" : it->second;  // older checkpoints: MLPs
    if (was != o.model)
      throw Error("the checkpoint " + o.resume + " is of the " + was + " model, not " + o.model,
                  "resume with --model " + was);
    fit::resume(trainer, batches, o.resume);
    if (lead)
      std::fprintf(stderr, "resumed from %s at epoch %llu, sample %llu\n", o.resume.c_str(),
                 static_cast<unsigned long long>(batches.order().position().epoch),
                 static_cast<unsigned long long>(batches.order().position().next));
  }

  fit::FitResult result;
  try {
    result = fit::fit(trainer, batches, &test,
                      {.epochs = o.epochs,
                       .metric = fit::Metric::Accuracy,
                       .checkpoint = lead ? run_dir / "checkpoint.safetensors" : fs::path(),
                       .log = lead ? run_dir / "metrics.jsonl" : fs::path(),
                       .validation_name = "test",
                       .checkpoint_metadata = {{"data.seed", std::to_string(o.seed)},
                                               {"model", o.model},
                                               {"precision", o.precision}},
                       .progress = lead,
                       .max_consecutive_skipped = o.max_skipped});
  } catch (const fit::Diverged& e) {
    if (lead)
      std::fprintf(stderr, "stopped: %llu consecutive steps skipped (loss scale now %g, %llu non-finite losses). %s\n",
                 static_cast<unsigned long long>(e.consecutive), double(e.loss_scale),
                 static_cast<unsigned long long>(e.nonfinite_losses),
                 e.nonfinite_losses > 0
                     ? "The forward pass overflows (non-finite loss): lower --lr, or try --precision fp32."
                     : "Gradients overflow fp16 even at small scales: the loss is probably diverging; lower --lr.");
    return 3;
  }
  std::vector<EpochPoint> curve;
  for (const auto& r : result.epochs)
    curve.push_back({double(r.epoch), r.train_loss, r.validation->loss, r.validation->accuracy.value_or(0.0)});
  const double accuracy = result.epochs.empty() ? fit::evaluate(trainer, test).accuracy.value_or(0.0)
                                                : result.epochs.back().validation->accuracy.value_or(0.0);
  const auto m = trainer.metrics(train::Wait::Yes);
  if (!lead) return 0;
  const auto final_state = trainer.save_state();
  if (!o.export_state_dict.empty()) io::export_state_dict(o.export_state_dict, final_state);
  const fs::path png = run_dir / "curve.png";
  const std::string title = o.model == "cnn" ? "vkgrad: CNN (2 conv + max-pool, fc 128) on Fashion-MNIST"
                                             : "vkgrad: MLP 784-512-256-10 on Fashion-MNIST";
  const bool plotted = !curve.empty() && plot_curve(curve, run_dir, png, title);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
  std::fprintf(stderr, "test accuracy %.4f after %u epochs in %.1f s; run folder %s%s\n", accuracy, o.epochs, seconds,
               run_dir.string().c_str(), plotted ? "" : " (no plot: gnuplot failed)");
  if (o.json) {
    std::cout << nlohmann::json{{"test_accuracy", accuracy},
                                {"model", o.model},
                                {"epochs", o.epochs},
                                {"precision", o.precision},
                                {"ranks", ranks.size},
                                {"samples_per_s", result.train_seconds > 0 ? double(result.samples) / result.train_seconds : 0.0},
                                {"skipped_steps", m.skipped_steps},
                                {"nonfinite_losses", m.nonfinite_losses},
                                {"final_loss_scale", m.loss_scale},
                                {"final_loss", m.loss},
                                {"seconds", seconds},
                                {"device", ctx.caps().name},
                                {"run_dir", run_dir.string()},
                                {"plot", plotted ? png.string() : ""}}
                     .dump(2)
              << '\n';
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"fashion_mnist: train an MLP or a CNN on Fashion-MNIST with vkgrad"};
  Options o;
  app.add_option("--data", o.data, "folder with the four Fashion-MNIST IDX files (.gz or not)");
  app.add_option("--model", o.model, "mlp (784-512-256-10) or cnn (two 3×3 conv + max-pool, fc 128)")
      ->check(CLI::IsMember({"mlp", "cnn"}));
  app.add_option("--epochs", o.epochs, "epochs (default: mlp 8, cnn 5)")->check(CLI::Range(1u, 1000u));
  app.add_option("--batch", o.batch, "batch size")->check(CLI::Range(1u, 60000u));
  app.add_option("--lr", o.lr, "AdamW learning rate")->check(cli::finite_range(0, 1e30));
  app.add_option("--schedule", o.schedule, "learning-rate schedule: cosine (to 0 at the end) or constant")
      ->check(CLI::IsMember({"cosine", "constant"}));
  app.add_option("--seed", o.seed, "initialization and shuffling seed");
  app.add_option("--precision", o.precision, "mixed or fp32")->check(CLI::IsMember({"mixed", "fp32"}));
  app.add_option("--out", o.out, "run folder (default runs/fashion_mnist-TIME)");
  app.add_option("--resume", o.resume, "continue from a checkpoint.safetensors");
  app.add_option("--export-state-dict", o.export_state_dict, "also write the parameters as a PyTorch state_dict");
  app.add_option("--limit", o.limit, "train on only the first N samples (smoke tests)");
  app.add_option("--max-skipped", o.max_skipped, "stop after this many consecutive skipped steps");
  app.add_flag("--json", o.json, "one JSON summary on stdout");
  app.add_flag("--data-parallel", o.data_parallel,
               "one rank of an MPI job: mpirun -np N fashion_mnist --data-parallel (--batch is the global batch)");
  CLI11_PARSE(app, argc, argv);
#if VKGRAD_WITH_MPI
  std::optional<MpiSession> mpi;
  if (o.data_parallel) mpi.emplace(argc, argv);
#endif
  try {
    const Ranks ranks = o.data_parallel ? join_ranks() : Ranks{};
    return run(o, ranks);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fashion_mnist: %s\n", e.what());
#if VKGRAD_WITH_MPI
    // The other ranks wait in a collective this one will never join: end the job.
    if (mpi) MPI_Abort(MPI_COMM_WORLD, 1);
#endif
    return 1;
  }
}
