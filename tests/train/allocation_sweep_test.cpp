// Allocation failure at every device and host site of a small MLP's training run, checkpoint
// save and load included (allocation_sweep.hpp says what each run must show). The demo models'
// sweeps take minutes: tests/sweeps runs them.
#include "allocation_sweep.hpp"
#include "small_models.hpp"

#include <gtest/gtest.h>

namespace vkgrad::test {
namespace {

TEST(AllocationSweep, MlpDevice) { sweep_allocations("mlp", small_mse_mlp(), AllocationFault::Device); }
TEST(AllocationSweep, MlpHost) { sweep_allocations("mlp", small_mse_mlp(), AllocationFault::Host); }

}  // namespace
}  // namespace vkgrad::test
