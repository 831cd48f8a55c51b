// vkgrad-bench: throughput numbers (and JSON), never pass/fail.
//   vkgrad-bench gemm [--sizes 256,512,1024] [--shapes MxNxK,...] [--variant all|coopmat|tiled16|fp32|cpu]
//                     [--layout nn|nt|tn|tt] [--types f16|f32] [--peak TFLOPS] [--json]
//   vkgrad-bench conv [--shapes NxCxHxW,OxK[,sS][,pP][,gG] ...] [--variant ...] [--types f16|f32] [--json]
//   vkgrad-bench train [--layers 1024,1024,1024,1024] [--batch 1024] [--steps 50]
//                      [--precision mixed|fp32] [--init F] [--data F] [--trace F] [--json]
//   vkgrad-bench attention [--contexts 64,256,1024] [--head-dims 32,64] [--kernels fused,composed]
//                          [--variants scalar,coopmat] [--tokens 8192] [--json]
#include "bench_cli.hpp"
#include "vkgrad/error.hpp"
#if VKGRAD_WITH_MPI
#include "vkgrad/dist/mpi_communicator.hpp"
#endif

#include <CLI/CLI.hpp>

#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>

int main(int argc, char** argv) {
  CLI::App app{"vkgrad-bench: GPU-timed throughput of vkgrad's kernels"};
  vkgrad::bench::BenchCli cli;
  cli.add_to(app);
  CLI11_PARSE(app, argc, argv);
  if (cli.peak > 0) cli.gemm.peak_tflops = cli.peak;
  // train --data-parallel: MPI around the run; only rank 0 prints the JSON.
  const bool ranked = app.got_subcommand(cli.train_cmd) && cli.train.data_parallel;
#if VKGRAD_WITH_MPI
  struct MpiSession {
    MpiSession(int& c, char**& v) { MPI_Init(&c, &v); }
    ~MpiSession() { MPI_Finalize(); }
  };
  std::optional<MpiSession> mpi;
  std::unique_ptr<vkgrad::dist::MpiCommunicator> comm;
  if (ranked) {
    mpi.emplace(argc, argv);
    comm = std::make_unique<vkgrad::dist::MpiCommunicator>();
  }
  const bool lead = !comm || comm->rank() == 0;
#else
  if (ranked) {
    std::fprintf(stderr, "vkgrad-bench: --data-parallel: this build has no MPI: install libopenmpi-dev and rebuild\n");
    return 1;
  }
  vkgrad::dist::Communicator* const comm_ptr = nullptr;
  const bool lead = true;
#endif
  try {
    const auto doc = app.got_subcommand(cli.gemm_cmd)        ? vkgrad::bench::run_gemm_bench(cli.gemm)
                     : app.got_subcommand(cli.conv_cmd)      ? vkgrad::bench::run_conv_bench(cli.conv)
                     : app.got_subcommand(cli.attention_cmd) ? vkgrad::bench::run_attention_bench(cli.attention)
                     : app.got_subcommand(cli.soak_cmd)      ? vkgrad::bench::run_soak(cli.soak, cli.sample_every)
#if VKGRAD_WITH_MPI
                                                             : vkgrad::bench::run_train_bench(cli.train, comm.get());
#else
                                                             : vkgrad::bench::run_train_bench(cli.train, comm_ptr);
#endif
    if (cli.as_json && lead) std::cout << doc.dump(2) << '\n';
  } catch (const vkgrad::Error& e) {
    std::fprintf(stderr, "vkgrad-bench: %s\n", e.what());
#if VKGRAD_WITH_MPI
    if (mpi) MPI_Abort(MPI_COMM_WORLD, 1);  // the other ranks wait in a collective
#endif
    return 1;
  }
  return 0;
}
