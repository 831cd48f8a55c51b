// Test main for programs run under mpiexec: MPI around GoogleTest. Every rank runs every test
// (each test's collectives pair up across ranks) and prints its own results (mpiexec
// --tag-output tells them apart); the job fails when any rank fails. The shared contexts are
// torn down inside GoogleTest, as in every suite.
#include "vk_fixture.hpp"

#include <gtest/gtest.h>
#include <mpi.h>

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  ::testing::InitGoogleTest(&argc, argv);
  vkgrad::test::add_context_environment(argv[0]);
  const int failed = RUN_ALL_TESTS();
  MPI_Finalize();
  return failed;
}
