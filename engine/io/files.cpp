#include "io/files.hpp"
#include "vk/host_memory.hpp"

#include "vkgrad/error.hpp"

#include <fstream>
#include <limits>
#include <system_error>

namespace vkgrad::io::detail {

std::string utf8(const std::filesystem::path& path) {
  const std::u8string text = path.u8string();
  return std::string(text.begin(), text.end());
}

std::string quoted(const std::filesystem::path& path) { return "'" + utf8(path) + "'"; }

std::vector<std::byte> read_whole_file(const std::filesystem::path& path, std::string_view what) {
  const std::string name = std::string(what) + " " + quoted(path);
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (!std::filesystem::exists(status))
    throw Error("cannot read " + name + ": it does not exist",
                "check the path (relative paths start in the current folder)");
  if (!std::filesystem::is_regular_file(status))
    throw Error("cannot read " + name + ": it is not a regular file", "give the path of the file itself");
  const uintmax_t size = std::filesystem::file_size(path, ec);
  if (ec) throw Error("cannot read " + name + ": " + ec.message(), "check that the file is readable");
  if (size > std::numeric_limits<size_t>::max() || size > uintmax_t(std::numeric_limits<std::streamsize>::max()))
    throw Error("cannot read " + name + ": " + std::to_string(size) + " bytes do not fit in memory",
                "use a 64-bit build");

  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot open " + name, "check that the file is readable");
  auto bytes = vk::host_vector<std::byte>(size, name);
  in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(size));
  if (static_cast<uintmax_t>(in.gcount()) != size)
    throw Error("cannot read " + name + ": read " + std::to_string(in.gcount()) + " of " + std::to_string(size) +
                    " bytes",
                "the file changed while it was read, or the disk failed: try again");
  return bytes;
}

}  // namespace vkgrad::io::detail
