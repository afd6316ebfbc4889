#include "api/unix_listener.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <cstring>

namespace kiln::api {
namespace {

constexpr int kBacklog = 16;

Result<sockaddr_un> make_address(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.empty()) return fail("the API socket needs a path");
  if (path.size() >= sizeof(addr.sun_path)) {
    return fail("API socket path {} is too long: a unix socket path holds at most {} bytes", path,
                sizeof(addr.sun_path) - 1);
  }
  std::memcpy(addr.sun_path, path.data(), path.size());
  return addr;
}

// Removes a socket file nobody listens on; refuses a live one or a file that is not a socket.
Status clear_stale_socket(const std::string& path, const sockaddr_un& addr) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) < 0) {
    if (errno == ENOENT) return {};
    return fail_errno(fmt::format("API socket {}", path));
  }
  if (!S_ISSOCK(st.st_mode)) return fail("API socket {}: the path exists and is not a socket; kiln leaves it alone", path);
  UniqueFd probe(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!probe) return fail_errno("socket(AF_UNIX)");
  if (::connect(probe.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) == 0) {
    return fail("API socket {} is in use: another process is listening on it", path);
  }
  if (errno != ECONNREFUSED) return fail_errno(fmt::format("API socket {}: probing the existing socket", path));
  if (::unlink(path.c_str()) < 0 && errno != ENOENT) return fail_errno(fmt::format("API socket {}: removing the stale socket", path));
  return {};
}

}  // namespace

Result<UnixListener> UnixListener::bind(const std::string& path) {
  auto addr = KILN_TRY_VALUE(make_address(path));
  KILN_TRY(clear_stale_socket(path, addr));
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd) return fail_errno("socket(AF_UNIX)");
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) < 0) {
    return fail_errno(fmt::format("API socket {}: bind", path));
  }
  struct stat st {};
  if (::lstat(path.c_str(), &st) < 0) return fail_errno(fmt::format("API socket {}: stat after bind", path));
  UnixListener listener(std::move(fd), path, st.st_dev, st.st_ino);
  // Only kiln's user may drive the VM, whatever the umask bind(2) took the mode from; set before
  // listen(2), so that nobody can connect in between (issue 16, finding 8).
  if (::chmod(path.c_str(), 0600) < 0) return fail_errno(fmt::format("API socket {}: chmod 0600", path));
  if (::listen(listener.fd(), kBacklog) < 0) return fail_errno(fmt::format("API socket {}: listen", path));
  return listener;
}

UnixListener::UnixListener(UnixListener&& other) noexcept
    : fd_(std::move(other.fd_)), path_(std::exchange(other.path_, {})), dev_(other.dev_), ino_(other.ino_) {}

UnixListener::~UnixListener() {
  if (path_.empty()) return;
  struct stat st {};
  // Only our own socket file: a later kiln may have replaced a file it found stale.
  if (::lstat(path_.c_str(), &st) == 0 && st.st_dev == dev_ && st.st_ino == ino_) ::unlink(path_.c_str());
}

}  // namespace kiln::api
