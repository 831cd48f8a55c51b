// Host buffers sized by the model or the data: parameter uploads and read-backs, whole files,
// decoded tensors, predictions. A request the host cannot meet becomes a vkgrad::Error naming the
// buffer and its size (VK_ERROR_OUT_OF_HOST_MEMORY, with advice) instead of a bare std::bad_alloc
// from deep inside the engine. Small bookkeeping allocations (names, lists) stay plain.
//
// Tests count and fail these requests with set_host_allocation_fault: one hook for the process,
// to be set while no other thread allocates through here.
#pragma once

#include <cstdint>
#include <new>
#include <string_view>
#include <vector>

namespace vkgrad::vk {

// Called before each request with its size and name; returning true fails it. Null: none.
using HostAllocationFault = bool (*)(uint64_t bytes, std::string_view what);
void set_host_allocation_fault(HostAllocationFault fault) noexcept;

namespace detail {
bool host_allocation_fails(uint64_t bytes, std::string_view what);
[[noreturn]] void throw_out_of_host_memory(uint64_t count, uint64_t element_bytes, std::string_view what);
}  // namespace detail

// `v` resized to `count` elements (new ones `fill`), or an Error naming `what`.
template <class T>
void host_resize(std::vector<T>& v, uint64_t count, std::string_view what, const T& fill = T{}) {
  if (count > v.max_size() || detail::host_allocation_fails(count * sizeof(T), what))
    detail::throw_out_of_host_memory(count, sizeof(T), what);
  try {
    v.resize(size_t(count), fill);
  } catch (const std::bad_alloc&) {
    detail::throw_out_of_host_memory(count, sizeof(T), what);
  }
}

// A vector of `count` elements `fill`, or an Error naming `what`.
template <class T>
std::vector<T> host_vector(uint64_t count, std::string_view what, const T& fill = T{}) {
  std::vector<T> v;
  host_resize(v, count, what, fill);
  return v;
}

}  // namespace vkgrad::vk
