// vkgrad::Error — the one exception type the engine throws.
//
// Carries what failed (the Vulkan call or engine operation), the VkResult when there is one,
// and a hint saying what the user can do about it. Immutable; safe to share between threads.
#pragma once

#include <vulkan/vulkan_core.h>

#include <stdexcept>
#include <string>

namespace vkgrad {

class Error : public std::runtime_error {
public:
  // An engine-level failure (bad argument, unsupported request, ...).
  explicit Error(const std::string& what, const std::string& hint = {});
  // A Vulkan call that returned `result`.
  Error(VkResult result, const std::string& call, const std::string& hint = {});

  VkResult result() const noexcept { return result_; }  // VK_SUCCESS when not a Vulkan error
  const std::string& call() const noexcept { return call_; }
  const std::string& hint() const noexcept { return hint_; }

private:
  VkResult result_ = VK_SUCCESS;
  std::string call_;
  std::string hint_;
};

// Name of a VkResult ("VK_ERROR_DEVICE_LOST").
const char* result_name(VkResult result) noexcept;

// Throws Error when `result` is not VK_SUCCESS (or another success code the caller allows).
void check(VkResult result, const char* call, const char* hint = nullptr);

}  // namespace vkgrad
