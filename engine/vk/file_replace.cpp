#include "file_replace.hpp"

#include "vkgrad/error.hpp"

#include <fstream>
#include <random>
#include <string>
#include <system_error>

namespace vkgrad::vk {

void replace_file(const std::filesystem::path& path, std::span<const char> data, std::string_view what) {
  std::error_code ec;
  std::filesystem::create_directories(path.parent_path(), ec);
  std::random_device rd;
  const auto tmp = path.string() + ".tmp" + std::to_string(rd());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(data.data(), static_cast<std::streamsize>(data.size()));
    if (!out.flush())
      throw Error("could not write the " + std::string(what) + " " + tmp,
                  "check the cache folder's permissions and free space");
  }
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    throw Error("could not replace the " + std::string(what) + " " + path.string(), "check the cache folder's permissions");
  }
}

}  // namespace vkgrad::vk
