#include "vkgrad/error.hpp"

#include <vulkan/vk_enum_string_helper.h>

namespace vkgrad {
namespace {

// What a user can do about a result when the call site has nothing more specific to say.
const char* default_hint(VkResult result) {
  switch (result) {
    case VK_ERROR_OUT_OF_DEVICE_MEMORY:
      return "the device is out of memory: use a smaller batch or model, or free other GPU work";
    case VK_ERROR_OUT_OF_HOST_MEMORY:
      return "the host is out of memory";
    case VK_ERROR_DEVICE_LOST:
      return "the device was lost (driver crash, reset or timeout): destroy and recreate the Context";
    case VK_ERROR_INITIALIZATION_FAILED:
    case VK_ERROR_INCOMPATIBLE_DRIVER:
      return "no usable Vulkan driver: install one (e.g. mesa-vulkan-drivers) or check VK_DRIVER_FILES";
    case VK_ERROR_LAYER_NOT_PRESENT:
      return "install the Khronos validation layer (vulkan-validationlayers) or turn validation off";
    case VK_ERROR_EXTENSION_NOT_PRESENT:
    case VK_ERROR_FEATURE_NOT_PRESENT:
      return "the device lacks a required extension or feature: see `vkgrad-info`";
    default:
      return "";
  }
}

std::string compose(VkResult result, const std::string& call, const std::string& hint) {
  std::string msg = call + " failed with " + result_name(result);
  const std::string h = hint.empty() ? default_hint(result) : hint;
  if (!h.empty()) msg += ": " + h;
  return msg;
}

}  // namespace

Error::Error(const std::string& what, const std::string& hint)
    : std::runtime_error(hint.empty() ? what : what + ": " + hint), hint_(hint) {}

Error::Error(VkResult result, const std::string& call, const std::string& hint)
    : std::runtime_error(compose(result, call, hint)),
      result_(result),
      call_(call),
      hint_(hint.empty() ? default_hint(result) : hint) {}

const char* result_name(VkResult result) noexcept { return string_VkResult(result); }

void check(VkResult result, const char* call, const char* hint) {
  if (result < 0) throw Error(result, call, hint ? hint : "");
}

}  // namespace vkgrad
