#include "vk/host_memory.hpp"

#include "vkgrad/error.hpp"

#include <atomic>
#include <string>

namespace vkgrad::vk {
namespace {
std::atomic<HostAllocationFault> g_fault{nullptr};
}  // namespace

void set_host_allocation_fault(HostAllocationFault fault) noexcept { g_fault.store(fault); }

namespace detail {

bool host_allocation_fails(uint64_t bytes, std::string_view what) {
  const auto fault = g_fault.load();
  return fault && fault(bytes, what);
}

void throw_out_of_host_memory(uint64_t count, uint64_t element_bytes, std::string_view what) {
  // count × element_bytes may not fit in 64 bits when a damaged size got this far.
  const std::string size = count > UINT64_MAX / element_bytes ? std::to_string(count) + " × " + std::to_string(element_bytes)
                                                              : std::to_string(count * element_bytes);
  throw Error(VK_ERROR_OUT_OF_HOST_MEMORY, "allocating " + size + " bytes of host memory for '" + std::string(what) + "'",
              "the host is out of memory: close other programs, or use a smaller model, batch or file");
}

}  // namespace detail
}  // namespace vkgrad::vk
