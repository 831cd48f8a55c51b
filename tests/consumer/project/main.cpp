// A downstream program: uses the installed headers and library without touching a device.
#include <vkgrad/kernels/variant.hpp>

#include <cstdio>

int main() {
  vkgrad::vk::Caps caps;
  const auto storage = vkgrad::kernels::select_storage(caps, vkgrad::kernels::Precision::Mixed);
  std::printf("storage without 16-bit support: %s\n", vkgrad::kernels::storage_name(storage).data());
  return storage == vkgrad::kernels::Storage::F16x2 ? 0 : 1;
}
