#include "bench_cli.hpp"

#include <vkgrad_cli/checks.hpp>

namespace vkgrad::bench {

void BenchCli::add_to(CLI::App& app) {
  app.require_subcommand(1);
  app.add_flag("--json", as_json, "one JSON document on stdout");
  gemm_cmd = app.add_subcommand("gemm", "GEMMs of every variant and preset, checked against float64");
  gemm_cmd->add_option("--sizes", gemm.sizes, "square matrix sizes")->delimiter(',')->check(CLI::Range(1u, 16384u));
  gemm_cmd->add_option("--shapes", gemm.shapes, "more shapes, MxNxK")->delimiter(',');
  gemm_cmd->add_option("--variant", gemm.variant, "all, coopmat, coopmat2, tiled16, fp32 or cpu");
  gemm_cmd->add_option("--layout", gemm.layout, "nn, nt, tn or tt: which of op(A), op(B) is read transposed");
  gemm_cmd->add_option("--types", gemm.types, "f16 or f32 operands");
  gemm_cmd->add_option("--check-max", gemm.check_max, "largest size checked against the CPU reference");
  gemm_cmd->add_option("--peak,--peak-tflops", peak, "the device's fp16 matrix peak in TFLOP/s, to report the fraction reached")
      ->check(cli::finite_range(0, 1e6));
  gemm_cmd->add_option("--seconds", gemm.seconds_per_row, "timed work per row (seconds)")->check(cli::finite_range(1e-3, 3600));
  gemm_cmd->add_flag("--json", as_json, "one JSON document on stdout");
  conv_cmd = app.add_subcommand("conv", "convolution passes as implicit GEMMs per variant, checked against float64");
  conv_cmd->add_option("--shapes", conv.shapes, "NxCxHxW,OxK[,sS][,pP][,gG] (space-separated)");
  conv_cmd->add_option("--variant", conv.variant, "all, coopmat, coopmat2, tiled16, fp32 or cpu");
  conv_cmd->add_option("--types", conv.types, "f16 or f32 tensors");
  conv_cmd->add_option("--check-max-gflop", conv.check_max_gflop, "passes above this skip the CPU reference")
      ->check(cli::finite_range(0, 1e6));
  conv_cmd->add_option("--seconds", conv.seconds_per_row, "timed work per row (seconds)")->check(cli::finite_range(1e-3, 3600));
  conv_cmd->add_flag("--json", as_json, "one JSON document on stdout");
  attention_cmd = app.add_subcommand("attention", "causal self-attention training steps: tokens/s and activation memory");
  attention_cmd->add_option("--contexts", attention.contexts, "context lengths")->delimiter(',')->check(CLI::Range(2u, 65536u));
  attention_cmd->add_option("--head-dims", attention.head_dims, "head sizes")->delimiter(',')->check(CLI::Range(1u, 1024u));
  attention_cmd->add_option("--kernels", attention.kernels, "fused, composed or both")->delimiter(',');
  attention_cmd->add_option("--variants", attention.variants, "also time the fused kernel alone: scalar, coopmat or both")
      ->delimiter(',');
  attention_cmd->add_option("--heads", attention.heads, "heads")->check(CLI::Range(1u, 256u));
  attention_cmd->add_option("--tokens", attention.tokens, "tokens per step (batch = tokens / context)");
  attention_cmd->add_option("--steps", attention.steps, "timed steps")->check(CLI::Range(1u, 100000u));
  attention_cmd->add_option("--precision", attention.precision, "mixed or fp32");
  attention_cmd->add_flag("--json", as_json, "one JSON document on stdout");
  train_cmd = app.add_subcommand("train", "training steps of an MLP: speed, counters, memory");
  train_cmd->add_option("--model", train.model,
                 "mlp, cnn (fashion_mnist's; --layers PIXELS CLASSES), hashgrid (neural_image's; --layers 2,...,3) "
                 "or transformer (char_transformer's; --layers VOCAB,CONTEXT,LAYERS,DIM,HEADS)");
  train_cmd->add_option("--layers", train.layers, "layer sizes, input first")->delimiter(',');
  train_cmd->add_option("--activation", train.activation, "relu, gelu, gelu_tanh, tanh, sigmoid");
  train_cmd->add_option("--loss", train.loss, "cross_entropy or mse");
  train_cmd->add_option("--optimizer", train.optimizer, "sgd, adam or adamw");
  train_cmd->add_option("--lr", train.lr, "learning rate")->check(cli::finite_range(0, 1e30));
  train_cmd->add_option("--momentum", train.momentum, "SGD momentum");
  train_cmd->add_option("--batch", train.batch, "rows per step")->check(CLI::Range(1u, 1u << 20));
  train_cmd->add_option("--steps", train.steps, "steps in all")->check(CLI::Range(1u, 1u << 30));
  train_cmd->add_option("--warmup", train.warmup, "untimed steps first");
  train_cmd->add_option("--precision", train.precision, "mixed or fp32");
  train_cmd->add_option("--attention", train.attention, "transformer: auto, fused or composed");
  train_cmd->add_option("--seed", train.seed, "initialization seed");
  train_cmd->add_option("--init", train.init, "safetensors with the parameters (layers.N.weight, layers.N.bias)");
  train_cmd->add_option("--data", train.data, "safetensors with x [S, in] and y, consumed in order");
  train_cmd->add_option("--trace", train.trace, "write one JSON line per step: step, loss, loss_scale, skipped");
  train_cmd->add_option("--inject-nonfinite", train.inject_nonfinite, "steps whose gradients get an inf")->delimiter(',');
  train_cmd->add_option("--profile-steps", train.profile_steps, "steps timed per pass with timestamps afterwards (0: none)");
  train_cmd->add_flag("--data-parallel", train.data_parallel,
                      "one rank of an MPI job (mpirun -np N vkgrad-bench train --data-parallel): --batch is the global batch");
  train_cmd->add_option("--bucket-mib", train.bucket_mib, "data parallel: gradient bucket size in MiB (PyTorch DDP's 25)")
      ->check(CLI::Range(1.0 / (1 << 20), 1024.0));
  train_cmd->add_flag("--json", as_json, "one JSON document on stdout");
  soak_cmd = app.add_subcommand("soak", "a long run sampling device memory, resident memory, open files and pipelines");
  soak_cmd->add_option("--model", soak.model, "mlp, cnn, hashgrid or transformer (as train)");
  soak_cmd->add_option("--layers", soak.layers, "layer sizes, input first (as train)")->delimiter(',');
  soak_cmd->add_option("--loss", soak.loss, "cross_entropy or mse");
  soak_cmd->add_option("--batch", soak.batch, "rows per step")->check(CLI::Range(1u, 1u << 20));
  soak_cmd->add_option("--steps", soak.steps, "steps in all")->check(CLI::Range(1u, 1u << 30));
  soak_cmd->add_option("--sample-every", sample_every, "steps between samples")->check(CLI::Range(1u, 1u << 30));
  soak_cmd->add_option("--precision", soak.precision, "mixed or fp32");
  soak_cmd->add_flag("--json", as_json, "one JSON document on stdout");
}

}  // namespace vkgrad::bench
