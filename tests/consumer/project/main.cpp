// A downstream program: uses the installed headers (through the umbrella header) and library
// without touching a device.
#include <vkgrad/kernels/variant.hpp>
#include <vkgrad/vkgrad.hpp>

#include <cstdint>
#include <cstdio>

int main() {
  // A made-up device: subgroups of 32, workgroups of up to 1024 invocations.
  vkgrad::vk::Caps caps;
  caps.subgroup_size = 32;
  caps.max_workgroup_invocations = 1024;
  caps.max_workgroup_size = {1024, 1024, 64};
  // Rows of 100 elements get the power of two covering them; rows of 5 still a whole subgroup.
  const uint32_t row100 = vkgrad::kernels::reduce_workgroup_size(caps, 100);
  const uint32_t row5 = vkgrad::kernels::reduce_workgroup_size(caps, 5);
  std::printf("reduction workgroups: %u for 100 elements, %u for 5\n", row100, row5);
  // A graph is built and shape-checked on the host: a GPT block's output is [context, dim].
  const vkgrad::graph::Graph g = vkgrad::graph::gpt({.vocab = 50, .context = 16, .layers = 1, .dim = 32, .heads = 2});
  const auto& logits = g.tensors()[g.loss()->pred];
  std::printf("gpt logits [%u, %u]\n", logits.dims[0], logits.dims[1]);
  return row100 == 128 && row5 == 32 && logits.dims[0] == 16 && logits.dims[1] == 50 ? 0 : 1;
}
