// Environment variables the engine honours, and small platform helpers (internal).
#pragma once

#include "vkgrad/vk/caps.hpp"

#include <vulkan/vulkan_core.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vkgrad::vk {

// VKGRAD_DEVICE: an index ("1") or a name substring ("nvidia"). Leaves both untouched when unset.
void parse_device_env(std::optional<uint32_t>& index, std::string& name);
// VKGRAD_DISABLE=coopmat,fp16-arith,storage16. Throws Error on an unknown name.
std::vector<Feature> parse_disable_env();
std::vector<Feature> parse_disable_list(std::string_view list);
// VKGRAD_VALIDATION set to anything but "" or "0".
bool validation_env();
// VKGRAD_TUNE=0: kernels use their rule-based choice instead of measuring.
bool tune_env_off();
// XDG_CACHE_HOME/vkgrad, else HOME/.cache/vkgrad, else LOCALAPPDATA/vkgrad; empty if none set.
std::filesystem::path default_cache_dir();
std::string lowercase(std::string s);
// vkGetInstanceProcAddr of the system's Vulkan loader, or null when none loads.
PFN_vkGetInstanceProcAddr system_vulkan_loader();

}  // namespace vkgrad::vk
