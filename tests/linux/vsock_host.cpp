#include "vsock_host.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <algorithm>
#include <utility>

namespace kiln::test {
namespace {

using Clock = std::chrono::steady_clock;

int unix_socket_at(const std::string& path, bool listen_there) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
  const auto* a = reinterpret_cast<const sockaddr*>(&addr);
  const bool ok = listen_there ? ::bind(fd, a, sizeof(addr)) == 0 && ::listen(fd, 128) == 0
                               : ::connect(fd, a, sizeof(addr)) == 0;
  if (!ok) {
    ::close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

VsockStream::VsockStream(VsockStream&& o) noexcept
    : fd(std::exchange(o.fd, -1)), local_port(o.local_port), error(std::move(o.error)) {}
VsockStream& VsockStream::operator=(VsockStream&& o) noexcept {
  if (this != &o) {
    if (fd >= 0) ::close(fd);
    fd = std::exchange(o.fd, -1);
    local_port = o.local_port;
    error = std::move(o.error);
  }
  return *this;
}
VsockStream::~VsockStream() {
  if (fd >= 0) ::close(fd);
}

VsockStream vsock_connect(const std::string& uds_path, uint32_t port, std::chrono::milliseconds timeout) {
  VsockStream s;
  s.fd = unix_socket_at(uds_path, false);
  if (s.fd < 0) {
    s.error = "connect " + uds_path + ": " + std::strerror(errno);
    return s;
  }
  const std::string line = "CONNECT " + std::to_string(port) + "\n";
  if (::send(s.fd, line.data(), line.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(line.size())) {
    s.error = "sending CONNECT failed";
    return s;
  }
  std::string reply;
  const auto deadline = Clock::now() + timeout;
  while (reply.empty() || reply.back() != '\n') {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    pollfd p{s.fd, POLLIN, 0};
    char c = 0;
    if (left <= 0 || ::poll(&p, 1, static_cast<int>(left)) <= 0 || ::recv(s.fd, &c, 1, 0) != 1 || reply.size() > 64) {
      s.error = "no OK for CONNECT " + std::to_string(port) + " (got '" + reply + "')";
      ::close(s.fd);
      s.fd = -1;
      return s;
    }
    reply += c;
  }
  if (!reply.starts_with("OK ")) {
    s.error = "CONNECT answered '" + reply + "'";
    ::close(s.fd);
    s.fd = -1;
    return s;
  }
  s.local_port = static_cast<uint32_t>(std::stoul(reply.substr(3)));
  return s;
}

std::string vsock_echo_round_trip(int fd, uint64_t bytes, uint64_t start, std::chrono::milliseconds timeout,
                                  bool half_close) {
  const auto deadline = Clock::now() + timeout;
  uint64_t sent = 0, got = 0;
  bool shut = false;
  std::vector<uint8_t> out(16384), in(65536);
  while (got < bytes || (half_close && !shut)) {
    if (half_close && sent == bytes && !shut) {
      ::shutdown(fd, SHUT_WR);
      shut = true;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return "timed out: " + std::to_string(sent) + " sent, " + std::to_string(got) + " echoed";
    pollfd p{fd, static_cast<short>(POLLIN | (sent < bytes ? POLLOUT : 0)), 0};
    if (::poll(&p, 1, static_cast<int>(std::min<long>(left, 1000))) <= 0) continue;
    if (sent < bytes && (p.revents & POLLOUT) != 0) {
      const size_t n = static_cast<size_t>(std::min<uint64_t>(out.size(), bytes - sent));
      for (size_t i = 0; i < n; ++i) out[i] = vsock_pattern(start + sent + i);
      const ssize_t w = ::send(fd, out.data(), n, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (w < 0 && errno != EAGAIN && errno != EINTR) return std::string("send: ") + std::strerror(errno);
      if (w > 0) sent += static_cast<uint64_t>(w);
    }
    if ((p.revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
      const ssize_t n = ::recv(fd, in.data(), in.size(), MSG_DONTWAIT);
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
      if (n < 0) return std::string("recv: ") + std::strerror(errno);
      if (n == 0) return "EOF after " + std::to_string(got) + " of " + std::to_string(bytes) + " echoed bytes";
      for (ssize_t i = 0; i < n; ++i) {
        if (in[static_cast<size_t>(i)] != vsock_pattern(start + got + static_cast<uint64_t>(i))) {
          return "echoed byte " + std::to_string(got + static_cast<uint64_t>(i)) + " differs";
        }
      }
      got += static_cast<uint64_t>(n);
    }
  }
  if (half_close) {
    pollfd p{fd, POLLIN, 0};
    char c = 0;
    if (::poll(&p, 1, 30000) <= 0 || ::recv(fd, &c, 1, 0) != 0) return "no EOF after the echo";
  }
  return "";
}

std::string vsock_send_all(int fd, const std::string& bytes, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  size_t sent = 0;
  while (sent < bytes.size()) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return "timed out after " + std::to_string(sent) + " of " + std::to_string(bytes.size()) + " bytes";
    pollfd p{fd, POLLOUT, 0};
    if (::poll(&p, 1, static_cast<int>(std::min<long>(left, 1000))) <= 0) continue;
    const ssize_t w = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (w < 0 && errno != EAGAIN && errno != EINTR) return std::string("send: ") + std::strerror(errno);
    if (w > 0) sent += static_cast<size_t>(w);
  }
  ::shutdown(fd, SHUT_WR);
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    pollfd p{fd, POLLIN, 0};
    if (left <= 0 || ::poll(&p, 1, static_cast<int>(left)) <= 0) return "no EOF from the peer after the data";
    char c[4096];
    const ssize_t n = ::recv(fd, c, sizeof(c), 0);
    if (n == 0) return "";
    if (n < 0 && errno != EINTR) return std::string("waiting for EOF: ") + std::strerror(errno);
  }
}

VsockSink::VsockSink(std::string path) : path_(std::move(path)) {
  fd_ = unix_socket_at(path_, true);
  if (fd_ >= 0) acceptor_ = std::thread([this] { serve(); });
}

VsockSink::~VsockSink() {
  stop_ = true;
  if (acceptor_.joinable()) acceptor_.join();
  for (auto& t : threads_) t.join();
  if (fd_ >= 0) ::close(fd_);
}

std::vector<std::string> VsockSink::wait_for(size_t n, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  ended_.wait_for(lock, timeout, [&] { return received_.size() >= n; });
  return received_;
}

void VsockSink::serve() {
  while (!stop_) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    const int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) continue;
    threads_.emplace_back([this, c] {
      std::string bytes;
      std::vector<char> buf(65536);
      for (;;) {
        pollfd q{c, POLLIN, 0};
        if (::poll(&q, 1, 100) <= 0) {
          if (stop_) break;
          continue;
        }
        const ssize_t n = ::recv(c, buf.data(), buf.size(), 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        bytes.append(buf.data(), static_cast<size_t>(n));
      }
      ::close(c);
      std::lock_guard lock(mu_);
      received_.push_back(std::move(bytes));
      ended_.notify_all();
    });
  }
}

VsockEchoListener::VsockEchoListener(std::string path) : path_(std::move(path)) {
  fd_ = unix_socket_at(path_, true);
  if (fd_ >= 0) acceptor_ = std::thread([this] { serve(); });
}

VsockEchoListener::~VsockEchoListener() {
  stop_ = true;
  if (acceptor_.joinable()) acceptor_.join();
  drop_all();
  for (auto& t : threads_) t.join();
  if (fd_ >= 0) ::close(fd_);
}

void VsockEchoListener::drop_all() {
  std::lock_guard lock(mu_);
  for (const int c : conns_) ::shutdown(c, SHUT_RDWR);  // its echo thread then closes it
}

void VsockEchoListener::serve() {
  while (!stop_) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    const int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) continue;
    std::lock_guard lock(mu_);
    conns_.push_back(c);
    ++accepted_;  // after the push: a drop_all() once accepted() counts it reaches this connection
    threads_.emplace_back([this, c] {
      std::vector<char> buf(65536);
      for (;;) {
        const ssize_t n = ::recv(c, buf.data(), buf.size(), 0);
        if (n <= 0) break;
        if (::send(c, buf.data(), static_cast<size_t>(n), MSG_NOSIGNAL) != n) break;
      }
      ::shutdown(c, SHUT_WR);
      // Off the list before the number can be reused (drop_all shuts down listed fds only).
      std::lock_guard inner(mu_);
      std::erase(conns_, c);
      ::close(c);
    });
  }
}

}  // namespace kiln::test
