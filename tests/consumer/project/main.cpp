// A downstream program: uses the installed headers and library without touching a device.
#include <vkgrad/kernels/variant.hpp>

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
  return row100 == 128 && row5 == 32 ? 0 : 1;
}
