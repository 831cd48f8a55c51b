// Test main for every suite: runs the tests, then tears the shared contexts down inside
// GoogleTest so that validation messages from destruction still fail the run.
#include "vk_fixture.hpp"

#include <gtest/gtest.h>

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  vkgrad::test::add_context_environment(argv[0]);
  return RUN_ALL_TESTS();
}
