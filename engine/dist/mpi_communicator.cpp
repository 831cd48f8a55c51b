#include "vkgrad/dist/mpi_communicator.hpp"

#include "vkgrad/error.hpp"

#include <algorithm>
#include <cstdio>
#include <thread>
#include <vector>

namespace vkgrad::dist {
namespace {

// MPI counts are ints: larger buffers go in pieces of this many elements.
constexpr size_t kMaxCount = size_t(1) << 30;

std::string who(uint32_t rank, uint32_t size) { return "rank " + std::to_string(rank) + " of " + std::to_string(size); }

void check_mpi(int rc, const std::string& where, const char* call) {
  if (rc == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(rc, text, &length);
  throw Error(where + ": " + call + " failed: " + std::string(text, size_t(std::max(length, 0))),
              "another rank probably died: see its output; end the job (mpirun does once a rank exits) and resume "
              "from the last checkpoint");
}

// Requests started together, finished by polling, so that a rank that never joins becomes an
// Error after the timeout rather than a hang.
class MpiPending final : public Pending {
public:
  MpiPending(std::vector<MPI_Request> requests, std::string what, std::chrono::milliseconds timeout)
      : requests_(std::move(requests)), what_(std::move(what)), timeout_(timeout) {}
  ~MpiPending() override {
    try {
      complete();
    } catch (const Error&) {  // a destructor cannot report it: complete() is where errors surface
    }
  }
  bool test() override {
    if (requests_.empty()) return true;
    int done = 0;
    const int rc = MPI_Testall(int(requests_.size()), requests_.data(), &done, MPI_STATUSES_IGNORE);
    if (rc != MPI_SUCCESS) {
      requests_.clear();
      check_mpi(rc, what_, "MPI_Testall");
    }
    if (done) requests_.clear();
    return done != 0;
  }
  void complete() override {
    const auto deadline = std::chrono::steady_clock::now() + timeout_;
    for (uint32_t polls = 0;; ++polls) {
      if (test()) return;
      if (std::chrono::steady_clock::now() > deadline) {
        requests_.clear();  // left to MPI: a collective cannot be cancelled
        char seconds[32];
        std::snprintf(seconds, sizeof seconds, "%g", double(timeout_.count()) / 1000);
        throw Error(what_ + " did not complete within " + seconds + " s",
                    "a rank died or hung: see the other ranks' output; end the job and resume from the last checkpoint");
      }
      // Spin briefly (a reduction usually finishes within microseconds of the last rank joining), then sleep.
      if (polls > 1000) std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
  }

private:
  std::vector<MPI_Request> requests_;
  std::string what_;
  std::chrono::milliseconds timeout_;
};

}  // namespace

MpiCommunicator::MpiCommunicator(MPI_Comm comm, MpiOptions options) : options_(options) {
  int initialized = 0, finalized = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  if (!initialized || finalized)
    throw Error("MpiCommunicator: MPI is not initialized", "call MPI_Init before creating it and MPI_Finalize after destroying it");
  check_mpi(MPI_Comm_dup(comm, &comm_), "MpiCommunicator", "MPI_Comm_dup");
  MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN);
  int rank = 0, size = 1;
  MPI_Comm_rank(comm_, &rank);
  MPI_Comm_size(comm_, &size);
  rank_ = uint32_t(rank);
  size_ = uint32_t(size);
  MPI_Comm local = MPI_COMM_NULL;
  check_mpi(MPI_Comm_split_type(comm_, MPI_COMM_TYPE_SHARED, rank, MPI_INFO_NULL, &local), "MpiCommunicator",
            "MPI_Comm_split_type");
  MPI_Comm_rank(local, &rank);
  local_rank_ = uint32_t(rank);
  MPI_Comm_free(&local);
}

MpiCommunicator::~MpiCommunicator() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized && comm_ != MPI_COMM_NULL) MPI_Comm_free(&comm_);
}

void MpiCommunicator::broadcast(std::span<std::byte> data, uint32_t root) {
  const std::string what = who(rank_, size_) + ": broadcast of " + std::to_string(data.size()) + " bytes from rank " + std::to_string(root);
  if (root >= size_) throw Error(what + ": no such rank", "broadcast from a rank below " + std::to_string(size_));
  std::vector<MPI_Request> requests;
  for (size_t at = 0; at < data.size(); at += kMaxCount) {
    MPI_Request r;
    check_mpi(MPI_Ibcast(data.data() + at, int(std::min(kMaxCount, data.size() - at)), MPI_BYTE, int(root), comm_, &r), what,
              "MPI_Ibcast");
    requests.push_back(r);
  }
  MpiPending(std::move(requests), what, options_.timeout).complete();
}

std::unique_ptr<Pending> MpiCommunicator::start_sum(std::span<float> values) {
  const std::string what = who(rank_, size_) + ": sum of " + std::to_string(values.size()) + " values over every rank";
  std::vector<MPI_Request> requests;
  for (size_t at = 0; at < values.size(); at += kMaxCount) {
    MPI_Request r;
    check_mpi(MPI_Iallreduce(MPI_IN_PLACE, values.data() + at, int(std::min(kMaxCount, values.size() - at)), MPI_FLOAT, MPI_SUM,
                             comm_, &r),
              what, "MPI_Iallreduce");
    requests.push_back(r);
  }
  return std::make_unique<MpiPending>(std::move(requests), what, options_.timeout);
}

}  // namespace vkgrad::dist
