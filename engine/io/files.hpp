// File helpers shared by engine/io: whole-file reads, paths in messages, and the fsync that
// atomic saves need (the one platform-specific piece, in sync.cpp).
//
// Free functions, no state. Thread-safe.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace vkgrad::io::detail {

// The path as UTF-8 (path::string() can throw on Windows for names outside the ANSI code page).
std::string utf8(const std::filesystem::path& path);
// The same in single quotes, for messages: "'data/train.gz'".
std::string quoted(const std::filesystem::path& path);

// Every byte of a regular file. Throws Error naming `what` ("safetensors file") and the path when
// it is missing, not a regular file, or cannot be read in full.
std::vector<std::byte> read_whole_file(const std::filesystem::path& path, std::string_view what);

// Flushes a closed file's data to the storage device (fsync; _commit on Windows). Throws Error.
void sync_file(const std::filesystem::path& path);

// Makes a rename inside `folder` durable (fsync of the folder on POSIX; Windows journals renames
// itself, so nothing to do there). Throws Error.
void sync_folder(const std::filesystem::path& folder);

}  // namespace vkgrad::io::detail
