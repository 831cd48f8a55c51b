// Replacing a cache file whole (internal): readers never see half a file.
#pragma once

#include <filesystem>
#include <span>
#include <string_view>

namespace vkgrad::vk {

// Writes `data` to a private temporary file beside `path`, then renames it over `path`
// (creating the folder). Throws Error naming `what` when either step fails.
void replace_file(const std::filesystem::path& path, std::span<const char> data, std::string_view what);

}  // namespace vkgrad::vk
