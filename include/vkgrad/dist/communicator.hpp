// vkgrad::dist::Communicator — the collective operations data-parallel training needs between
// the processes (ranks) of one job: broadcast and a sum over every rank. The engine depends on
// this interface only; dist::MpiCommunicator (vkgrad/dist/mpi_communicator.hpp, library
// vkgrad::mpi) implements it with MPI, so single-device users never link MPI.
//
// Collectives are called by every rank in the same order. An implementation is used by one
// thread at a time; distinct communicators may be used from distinct threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

namespace vkgrad::dist {

// A collective started on this rank. complete() blocks until it is done, or throws vkgrad::Error
// when the other ranks do not take part in time (a rank died or hung). Destroying one that was
// never completed waits for it as complete() does, but does not throw.
class Pending {
public:
  virtual ~Pending() = default;
  virtual void complete() = 0;
  // Done yet? Never blocks; throws as complete() does where the collective failed. Calling it
  // while waiting on other work lets the collective advance (MPI progresses non-blocking
  // collectives only inside its calls).
  virtual bool test() = 0;
};

class Communicator {
public:
  virtual ~Communicator() = default;
  virtual uint32_t rank() const = 0;
  virtual uint32_t size() const = 0;

  // Every rank's `data` becomes rank `root`'s (all ranks pass the same size).
  virtual void broadcast(std::span<std::byte> data, uint32_t root) = 0;
  // Starts replacing `values` on every rank by their element-wise sum over all ranks; `values`
  // must stay alive and untouched until complete(). Every rank gets bitwise the same sums, and
  // the same inputs give the same sums whatever the timing.
  virtual std::unique_ptr<Pending> start_sum(std::span<float> values) = 0;

  void sum(std::span<float> values) { start_sum(values)->complete(); }
};

}  // namespace vkgrad::dist
