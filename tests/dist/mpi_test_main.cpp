// Test main for programs run under mpiexec: MPI around GoogleTest. Every rank runs every test
// (each test's collectives pair up across ranks) and prints its own results (mpiexec
// --tag-output tells them apart); the job fails when any rank fails.
#include <gtest/gtest.h>
#include <mpi.h>

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  ::testing::InitGoogleTest(&argc, argv);
  const int failed = RUN_ALL_TESTS();
  MPI_Finalize();
  return failed;
}
