// Allocation failure at every device and host site of each demo's model at test sizes (the
// Fashion-MNIST CNN, the character GPT, the hash-grid field of neural_image and embed_renderer),
// checkpoint save and load included: what tests/train/allocation_sweep.hpp says each run must
// show. Each prints its figures: sites, errors, recovered.
#include "allocation_sweep.hpp"
#include "small_models.hpp"

#include <gtest/gtest.h>

namespace vkgrad::test {
namespace {

TEST(DemoAllocationSweep, FashionCnnDevice) { sweep_allocations("fashion_mnist cnn", small_fashion_cnn(), AllocationFault::Device); }
TEST(DemoAllocationSweep, FashionCnnHost) { sweep_allocations("fashion_mnist cnn", small_fashion_cnn(), AllocationFault::Host); }
TEST(DemoAllocationSweep, CharGptDevice) { sweep_allocations("char_transformer gpt", small_char_gpt(), AllocationFault::Device); }
TEST(DemoAllocationSweep, CharGptHost) { sweep_allocations("char_transformer gpt", small_char_gpt(), AllocationFault::Host); }
TEST(DemoAllocationSweep, HashGridFieldDevice) {
  sweep_allocations("hash-grid field", small_hash_grid_field(), AllocationFault::Device);
}
TEST(DemoAllocationSweep, HashGridFieldHost) { sweep_allocations("hash-grid field", small_hash_grid_field(), AllocationFault::Host); }

}  // namespace
}  // namespace vkgrad::test
