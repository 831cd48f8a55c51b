// The engine's one platform-specific file: durability needs fsync (POSIX) or _commit (Windows),
// which the C++ standard library does not offer.
#include "io/files.hpp"

#include "vkgrad/error.hpp"

#include <cerrno>
#include <system_error>

#ifdef _WIN32
#include <fcntl.h>
#include <io.h>
#else
#include <fcntl.h>
#include <unistd.h>
#endif

namespace vkgrad::io::detail {
namespace {

[[noreturn]] void fail(const char* call, const std::filesystem::path& path, int err) {
  throw Error(std::string(call) + " of " + quoted(path) + " failed: " + std::generic_category().message(err),
              "the storage may be full, read-only or failing: check it and save again");
}

}  // namespace

#ifdef _WIN32

void sync_file(const std::filesystem::path& path) {
  // _commit (FlushFileBuffers) needs write access.
  const int fd = _wopen(path.c_str(), _O_WRONLY | _O_BINARY);
  if (fd < 0) fail("_wopen", path, errno);
  if (_commit(fd) != 0) {
    const int err = errno;
    _close(fd);
    fail("_commit", path, err);
  }
  if (_close(fd) != 0) fail("_close", path, errno);
}

void sync_folder(const std::filesystem::path&) {}

#else

namespace {

void sync_path(const std::filesystem::path& path, int flags) {
  const int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) fail("open", path, errno);
  if (::fsync(fd) != 0) {
    const int err = errno;
    ::close(fd);
    fail("fsync", path, err);
  }
  if (::close(fd) != 0) fail("close", path, errno);
}

}  // namespace

void sync_file(const std::filesystem::path& path) { sync_path(path, O_WRONLY); }

void sync_folder(const std::filesystem::path& folder) {
  sync_path(folder.empty() ? std::filesystem::path(".") : folder, O_RDONLY | O_DIRECTORY);
}

#endif

}  // namespace vkgrad::io::detail
