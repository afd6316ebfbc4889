#include "unix_stream.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cstring>
#include <thread>

namespace kiln::bench {

Result<UnixStream> UnixStream::connect(const std::string& path, std::chrono::milliseconds timeout) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof(addr.sun_path)) return fail("socket path {} is too long", path);
  std::memcpy(addr.sun_path, path.data(), path.size());
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd) return fail_errno("socket(AF_UNIX)");
    if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) == 0) {
      return UnixStream(std::move(fd));
    }
    const int err = errno;
    if ((err != ENOENT && err != ECONNREFUSED && err != EINTR) || Clock::now() >= deadline) {
      return fail_errno(fmt::format("connecting to {}", path), err);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

Status UnixStream::send(std::string_view data, int fd) {
  size_t done = 0;
  while (done < data.size()) {
    iovec iov{const_cast<char*>(data.data() + done), data.size() - done};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    if (fd >= 0 && done == 0) {
      msg.msg_control = control;
      msg.msg_controllen = sizeof(control);
      cmsghdr* c = CMSG_FIRSTHDR(&msg);
      c->cmsg_level = SOL_SOCKET;
      c->cmsg_type = SCM_RIGHTS;
      c->cmsg_len = CMSG_LEN(sizeof(int));
      std::memcpy(CMSG_DATA(c), &fd, sizeof(int));
    }
    const ssize_t n = ::sendmsg(fd_.get(), &msg, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return fail_errno("send on the unix socket");
    done += static_cast<size_t>(n);
  }
  return {};
}

Status UnixStream::fill(Clock::time_point deadline) {
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return fail("no reply in time");
    pollfd p{fd_.get(), POLLIN, 0};
    const int ready = ::poll(&p, 1, static_cast<int>(left));
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) return fail_errno("poll on the unix socket");
    if (ready == 0) continue;  // the deadline check above ends it
    char chunk[4096];
    const ssize_t n = ::recv(fd_.get(), chunk, sizeof(chunk), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail_errno("recv on the unix socket");
    if (n == 0) return fail("the peer closed the connection");
    buf_.append(chunk, static_cast<size_t>(n));
    return {};
  }
}

Result<std::string> UnixStream::read_until(std::string_view delim, Clock::time_point deadline) {
  size_t searched = 0;
  for (;;) {
    const size_t at = buf_.find(delim, searched);
    if (at != std::string::npos) {
      std::string out = buf_.substr(0, at + delim.size());
      buf_.erase(0, at + delim.size());
      return out;
    }
    searched = buf_.size() >= delim.size() ? buf_.size() - delim.size() + 1 : 0;
    KILN_TRY(fill(deadline));
  }
}

Result<std::string> UnixStream::read_exact(size_t n, Clock::time_point deadline) {
  while (buf_.size() < n) KILN_TRY(fill(deadline));
  std::string out = buf_.substr(0, n);
  buf_.erase(0, n);
  return out;
}

}  // namespace kiln::bench
