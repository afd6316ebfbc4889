#include "snapshot/atomic_file.h"

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <utility>

namespace kiln::snapshot {
namespace {

std::string directory_of(const std::string& path) {
  const auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

}  // namespace

Result<AtomicFile> AtomicFile::create(const std::string& path) {
  std::string temp = path + ".tmp-XXXXXX";
  // mkstemp: O_RDWR | O_CREAT | O_EXCL, mode 0600.
  UniqueFd fd(::mkostemp(temp.data(), O_CLOEXEC));
  if (!fd) return fail_io(fmt::format("creating a temporary file next to {}", path));
  return AtomicFile(path, std::move(temp), std::move(fd));
}

AtomicFile::AtomicFile(AtomicFile&& other) noexcept
    : path_(std::move(other.path_)),
      temp_(std::move(other.temp_)),
      fd_(std::move(other.fd_)),
      committed_(std::exchange(other.committed_, true)) {}

AtomicFile::~AtomicFile() {
  if (!committed_ && !temp_.empty()) ::unlink(temp_.c_str());
}

Status AtomicFile::write_at(const void* data, size_t size, uint64_t offset) {
  const auto* p = static_cast<const uint8_t*>(data);
  size_t done = 0;
  while (done < size) {
    const ssize_t n = ::pwrite(fd_.get(), p + done, size - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail_io(fmt::format("writing {}", temp_));
    if (n == 0) return fail("writing {}: no progress", temp_);
    done += static_cast<size_t>(n);
  }
  return {};
}

Status AtomicFile::commit() {
  if (::fsync(fd_.get()) < 0) return fail_io(fmt::format("fsync {}", temp_));
  if (::rename(temp_.c_str(), path_.c_str()) < 0) return fail_io(fmt::format("renaming {} to {}", temp_, path_));
  committed_ = true;
  const std::string dir = directory_of(path_);
  UniqueFd dir_fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir_fd || ::fsync(dir_fd.get()) < 0) return fail_io(fmt::format("fsync of directory {}", dir));
  return {};
}

}  // namespace kiln::snapshot
