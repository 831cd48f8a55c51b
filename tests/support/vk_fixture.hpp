// The shared test fixture: validation-strict Contexts and the checks that fail a test on any
// validation error, or on any warning whose message ID is not in tests/validation-allowlist.txt.
//
// Contexts are cached per set of disabled features (instance and validation start-up cost
// seconds each) and live until the test program ends. One thread only, as GoogleTest runs;
// validation messages may arrive from any thread (tests that run contexts side by side).
#pragma once

#include "vkgrad/vk/context.hpp"

#include <gtest/gtest.h>

#include <initializer_list>
#include <string>
#include <vector>

namespace vkgrad::test {

// A validation-strict ContextCreateInfo: layer on, synchronization validation on, messages
// collected for the running test, environment overrides ignored (tests choose their own), no kernel tuning.
vk::ContextCreateInfo strict_create_info(std::vector<vk::Feature> disable = {});

// The cached strict Context with exactly these features disabled.
vk::Context& context(std::vector<vk::Feature> disable = {});

// "needs NAME" for the first of `features` the device does not support, else empty: the
// reason a test that needs them gives GTEST_SKIP().
std::string unsupported(const vk::Caps& caps, std::initializer_list<vk::Feature> features);

// Fails the current test (ADD_FAILURE) once per collected error and unallowed warning, then
// forgets them. Called after every VkTest; call it directly to check a step in between.
void expect_no_validation_messages();

// Validation messages collected since the last check (for tests of the harness itself).
std::vector<vk::ValidationMessage> take_validation_messages();

// Destroys the cached contexts and checks the messages their destruction produced; appends
// pipeline statistics to $VKGRAD_PIPELINE_STATS when set. Called once by the test main.
void shutdown_contexts(const std::string& program);

// Registers a GoogleTest environment that calls shutdown_contexts(program) at the end of the
// run, inside GoogleTest, so that validation messages from destruction still fail it.
void add_context_environment(const std::string& program);

class VkTest : public ::testing::Test {
protected:
  void TearDown() override { expect_no_validation_messages(); }
};

template <typename Param>
class VkTestWithParam : public ::testing::TestWithParam<Param> {
protected:
  void TearDown() override { expect_no_validation_messages(); }
};

}  // namespace vkgrad::test
