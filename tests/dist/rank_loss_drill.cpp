// A rank that stops answering in the middle of data-parallel training, as ctest runs it with 2
// ranks: `rank_loss_drill hang` (rank 1 stops at step 5 and sleeps) or `kill` (rank 1 is killed
// at step 5). The others must not hang: with `hang`, rank 0's gradient sum times out after 2 s
// and it prints the Error naming its rank and the operation, then ends the job (MPI_Abort);
// with `kill`, mpirun ends the job and names the rank that died. ctest checks the output and
// that the job ends well within its limit.
#include "small_models.hpp"
#include "vk_fixture.hpp"
#include "vkgrad/dist/mpi_communicator.hpp"
#include "vkgrad/error.hpp"
#include "vkgrad/train/trainer.hpp"

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <thread>

int main(int argc, char** argv) {
  using namespace vkgrad;
  MPI_Init(&argc, &argv);
  const bool kill = argc > 1 && std::strcmp(argv[1], "kill") == 0;
  dist::MpiCommunicator comm(MPI_COMM_WORLD, {.timeout = std::chrono::seconds(2)});
  try {
    vk::Context ctx(test::strict_create_info());
    train::Trainer trainer(ctx, test::small_mse_mlp(), {.batch_size = 4, .communicator = &comm});
    const std::vector<float> x(16, 0.5f), y(8, 0.25f);
    for (int step = 0; step < 20; ++step) {
      if (comm.rank() == 1 && step == 5) {
        std::fprintf(stderr, "rank 1: stopping at step 5 (%s)\n", kill ? "killed" : "hung");
        if (kill) std::raise(SIGKILL);
        std::this_thread::sleep_for(std::chrono::minutes(10));
      }
      trainer.step({4, {{x, {}}, {y, {}}}});
    }
    std::fprintf(stderr, "rank %u: all 20 steps completed\n", comm.rank());
  } catch (const Error& e) {
    std::fprintf(stderr, "rank %u: %s\n", comm.rank(), e.what());
    MPI_Abort(MPI_COMM_WORLD, 3);
  }
  MPI_Finalize();
  return 0;
}
