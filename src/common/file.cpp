#include "common/file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/unique_fd.h"

namespace kiln {

Status clear_nonblock(int fd, const std::string& label) {
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0) return fail_io(label);
  return {};
}

Result<RegularFile> open_regular_file(const std::string& path, std::string_view what) {
  const std::string label = what.empty() ? path : fmt::format("{} {}", what, path);
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
  if (!fd) return fail_io(label);
  struct stat st {};
  if (::fstat(fd.get(), &st) < 0) return fail_io(label);
  if (!S_ISREG(st.st_mode)) return fail_kind(ErrorKind::kConfig, "{}: not a regular file", label);
  KILN_TRY(clear_nonblock(fd.get(), label));
  return RegularFile{std::move(fd), static_cast<uint64_t>(st.st_size)};
}

Result<std::vector<uint8_t>> read_file(const std::string& path, uint64_t max_bytes) {
  auto [fd, size] = KILN_TRY_VALUE(open_regular_file(path));
  if (size > max_bytes) {
    return fail_kind(ErrorKind::kConfig, "{}: {} bytes is larger than the limit of {} bytes", path, size, max_bytes);
  }
  std::vector<uint8_t> data(size);
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::read(fd.get(), data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail_io(path);
    if (n == 0) return fail_kind(ErrorKind::kIo, "{}: file shrank while being read", path);
    done += static_cast<size_t>(n);
  }
  return data;
}

}  // namespace kiln
