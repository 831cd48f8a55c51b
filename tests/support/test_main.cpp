// Test main for every suite: runs the tests, then tears the shared contexts down inside
// GoogleTest so that validation messages from destruction still fail the run.
#include "vk_fixture.hpp"

#include <gtest/gtest.h>

#include <string>
#include <utility>

namespace {

class ContextEnvironment : public ::testing::Environment {
public:
  explicit ContextEnvironment(std::string program) : program_(std::move(program)) {}
  void TearDown() override { vkgrad::test::shutdown_contexts(program_); }

private:
  std::string program_;
};

}  // namespace

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  ::testing::AddGlobalTestEnvironment(new ContextEnvironment(argv[0]));  // GoogleTest takes ownership
  return RUN_ALL_TESTS();
}
