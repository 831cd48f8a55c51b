// vkgrad::dist::MpiCommunicator — dist::Communicator over MPI (library vkgrad::mpi, built when
// VKGRAD_MPI is on). Owns a duplicate of the given MPI communicator, so vkgrad's collectives
// never mix with the application's, with errors returned rather than fatal: every failed MPI
// call, and every collective the other ranks do not join within `timeout`, becomes a
// vkgrad::Error naming this rank and the operation. The application calls MPI_Init before and
// MPI_Finalize after (or aborts the job with MPI_Abort after an Error, since a collective left
// pending cannot be finished). Not thread-safe: one thread uses it at a time.
#pragma once

#include "vkgrad/dist/communicator.hpp"

#include <mpi.h>

#include <chrono>
#include <string>

namespace vkgrad::dist {

struct MpiOptions {
  // How long a collective may wait for the other ranks before it is an Error.
  std::chrono::milliseconds timeout{std::chrono::minutes(5)};
};

class MpiCommunicator final : public Communicator {
public:
  explicit MpiCommunicator(MPI_Comm comm = MPI_COMM_WORLD, MpiOptions options = {});
  ~MpiCommunicator() override;
  MpiCommunicator(const MpiCommunicator&) = delete;
  MpiCommunicator& operator=(const MpiCommunicator&) = delete;

  uint32_t rank() const override { return rank_; }
  // This rank among the ranks on the same machine (MPI_COMM_TYPE_SHARED): which of the
  // machine's GPUs it takes.
  uint32_t local_rank() const { return local_rank_; }
  uint32_t size() const override { return size_; }
  void broadcast(std::span<std::byte> data, uint32_t root) override;
  std::unique_ptr<Pending> start_sum(std::span<float> values) override;

  MPI_Comm comm() const { return comm_; }

private:
  MPI_Comm comm_ = MPI_COMM_NULL;
  uint32_t rank_ = 0, size_ = 1, local_rank_ = 0;
  MpiOptions options_;
};

}  // namespace vkgrad::dist
