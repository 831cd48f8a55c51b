// vkgrad-bench: throughput numbers (and JSON), never pass/fail.
//   vkgrad-bench gemm [--sizes 256,512,1024] [--shapes MxNxK,...] [--variant all|coopmat|tiled16|fp32|cpu]
//                     [--layout nn|nt|tn|tt] [--types f16|f32] [--peak TFLOPS] [--json]
//   vkgrad-bench conv [--shapes NxCxHxW,OxK[,sS][,pP][,gG] ...] [--variant ...] [--types f16|f32] [--json]
//   vkgrad-bench train [--layers 1024,1024,1024,1024] [--batch 1024] [--steps 50]
//                      [--precision mixed|fp32] [--init F] [--data F] [--trace F] [--json]
//   vkgrad-bench attention [--contexts 64,256,1024] [--head-dims 32,64] [--kernels fused,composed]
//                          [--variants scalar,coopmat] [--tokens 8192] [--json]
#include "attention_bench.hpp"
#include "conv_bench.hpp"
#include "gemm_bench.hpp"
#include "train_bench.hpp"
#include "vkgrad/error.hpp"

#include <CLI/CLI.hpp>
#include <vkgrad_cli/checks.hpp>

#include <cstdio>
#include <iostream>

int main(int argc, char** argv) {
  CLI::App app{"vkgrad-bench: GPU-timed throughput of vkgrad's kernels"};
  app.require_subcommand(1);
  bool as_json = false;
  app.add_flag("--json", as_json, "one JSON document on stdout");

  vkgrad::bench::GemmBenchOptions gemm;
  double peak = 0;
  auto* g = app.add_subcommand("gemm", "GEMMs of every variant and preset, checked against float64");
  g->add_option("--sizes", gemm.sizes, "square matrix sizes")->delimiter(',')->check(CLI::Range(1u, 16384u));
  g->add_option("--shapes", gemm.shapes, "more shapes, MxNxK")->delimiter(',');
  g->add_option("--variant", gemm.variant, "all, coopmat, coopmat2, tiled16, fp32 or cpu");
  g->add_option("--layout", gemm.layout, "nn, nt, tn or tt: which of op(A), op(B) is read transposed");
  g->add_option("--types", gemm.types, "f16 or f32 operands");
  g->add_option("--check-max", gemm.check_max, "largest size checked against the CPU reference");
  g->add_option("--peak,--peak-tflops", peak, "the device's fp16 matrix peak in TFLOP/s, to report the fraction reached")
      ->check(vkgrad::cli::finite_range(0, 1e6));
  g->add_option("--seconds", gemm.seconds_per_row, "timed work per row (seconds)")->check(vkgrad::cli::finite_range(1e-3, 3600));
  g->add_flag("--json", as_json, "one JSON document on stdout");
  vkgrad::bench::ConvBenchOptions conv;
  auto* c = app.add_subcommand("conv", "convolution passes as implicit GEMMs per variant, checked against float64");
  c->add_option("--shapes", conv.shapes, "NxCxHxW,OxK[,sS][,pP][,gG] (space-separated)");
  c->add_option("--variant", conv.variant, "all, coopmat, coopmat2, tiled16, fp32 or cpu");
  c->add_option("--types", conv.types, "f16 or f32 tensors");
  c->add_option("--check-max-gflop", conv.check_max_gflop, "passes above this skip the CPU reference")
      ->check(vkgrad::cli::finite_range(0, 1e6));
  c->add_option("--seconds", conv.seconds_per_row, "timed work per row (seconds)")->check(vkgrad::cli::finite_range(1e-3, 3600));
  c->add_flag("--json", as_json, "one JSON document on stdout");
  vkgrad::bench::AttentionBenchOptions attention;
  auto* a = app.add_subcommand("attention", "causal self-attention training steps: tokens/s and activation memory");
  a->add_option("--contexts", attention.contexts, "context lengths")->delimiter(',')->check(CLI::Range(2u, 65536u));
  a->add_option("--head-dims", attention.head_dims, "head sizes")->delimiter(',')->check(CLI::Range(1u, 1024u));
  a->add_option("--kernels", attention.kernels, "fused, composed or both")->delimiter(',');
  a->add_option("--variants", attention.variants, "also time the fused kernel alone: scalar, coopmat or both")
      ->delimiter(',');
  a->add_option("--heads", attention.heads, "heads")->check(CLI::Range(1u, 256u));
  a->add_option("--tokens", attention.tokens, "tokens per step (batch = tokens / context)");
  a->add_option("--steps", attention.steps, "timed steps")->check(CLI::Range(1u, 100000u));
  a->add_option("--precision", attention.precision, "mixed or fp32");
  a->add_flag("--json", as_json, "one JSON document on stdout");
  vkgrad::bench::TrainBenchOptions train;
  auto* t = app.add_subcommand("train", "training steps of an MLP: speed, counters, memory");
  t->add_option("--model", train.model,
                 "mlp, cnn (fashion_mnist's; --layers PIXELS CLASSES), hashgrid (neural_image's; --layers 2,...,3) "
                 "or transformer (char_transformer's; --layers VOCAB,CONTEXT,LAYERS,DIM,HEADS)");
  t->add_option("--layers", train.layers, "layer sizes, input first")->delimiter(',');
  t->add_option("--activation", train.activation, "relu, gelu, gelu_tanh, tanh, sigmoid");
  t->add_option("--loss", train.loss, "cross_entropy or mse");
  t->add_option("--optimizer", train.optimizer, "sgd, adam or adamw");
  t->add_option("--lr", train.lr, "learning rate")->check(vkgrad::cli::finite_range(0, 1e30));
  t->add_option("--momentum", train.momentum, "SGD momentum");
  t->add_option("--batch", train.batch, "rows per step")->check(CLI::Range(1u, 1u << 20));
  t->add_option("--steps", train.steps, "steps in all")->check(CLI::Range(1u, 1u << 30));
  t->add_option("--warmup", train.warmup, "untimed steps first");
  t->add_option("--precision", train.precision, "mixed or fp32");
  t->add_option("--attention", train.attention, "transformer: auto, fused or composed");
  t->add_option("--seed", train.seed, "initialization seed");
  t->add_option("--init", train.init, "safetensors with the parameters (layers.N.weight, layers.N.bias)");
  t->add_option("--data", train.data, "safetensors with x [S, in] and y, consumed in order");
  t->add_option("--trace", train.trace, "write one JSON line per step: step, loss, loss_scale, skipped");
  t->add_option("--inject-nonfinite", train.inject_nonfinite, "steps whose gradients get an inf")->delimiter(',');
  t->add_option("--profile-steps", train.profile_steps, "steps timed per pass with timestamps afterwards (0: none)");
  t->add_flag("--json", as_json, "one JSON document on stdout");
  vkgrad::bench::TrainBenchOptions soak{.layers = {784, 256, 256, 10}, .batch = 128, .steps = 20000};
  uint32_t sample_every = 1000;
  auto* k = app.add_subcommand("soak", "a long run sampling device memory, resident memory, open files and pipelines");
  k->add_option("--model", soak.model, "mlp, cnn, hashgrid or transformer (as train)");
  k->add_option("--layers", soak.layers, "layer sizes, input first (as train)")->delimiter(',');
  k->add_option("--loss", soak.loss, "cross_entropy or mse");
  k->add_option("--batch", soak.batch, "rows per step")->check(CLI::Range(1u, 1u << 20));
  k->add_option("--steps", soak.steps, "steps in all")->check(CLI::Range(1u, 1u << 30));
  k->add_option("--sample-every", sample_every, "steps between samples")->check(CLI::Range(1u, 1u << 30));
  k->add_option("--precision", soak.precision, "mixed or fp32");
  k->add_flag("--json", as_json, "one JSON document on stdout");
  CLI11_PARSE(app, argc, argv);
  if (peak > 0) gemm.peak_tflops = peak;
  try {
    const auto doc = app.got_subcommand(g)   ? vkgrad::bench::run_gemm_bench(gemm)
                     : app.got_subcommand(c) ? vkgrad::bench::run_conv_bench(conv)
                     : app.got_subcommand(a) ? vkgrad::bench::run_attention_bench(attention)
                     : app.got_subcommand(k) ? vkgrad::bench::run_soak(soak, sample_every)
                                             : vkgrad::bench::run_train_bench(train);
    if (as_json) std::cout << doc.dump(2) << '\n';
  } catch (const vkgrad::Error& e) {
    std::fprintf(stderr, "vkgrad-bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
