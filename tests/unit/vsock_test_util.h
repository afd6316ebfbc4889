// Shared by the vsock unit tests: guest-side packet headers, a host program on a unix socket, and
// a guest that talks to a Muxer directly (no queues).
#pragma once

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <functional>
#include <optional>
#include <string>
#include <thread>

#include "common/unique_fd.h"
#include "virtio/vsock/muxer.h"

namespace kiln::virtio::vsock::test {

inline constexpr uint64_t kGuestCid = 3;

// A header as the guest driver sends it.
inline Header guest_header(Op op, uint32_t src_port, uint32_t dst_port, uint32_t len = 0, uint32_t flags = 0,
                           uint32_t buf_alloc = 256 * 1024, uint32_t fwd_cnt = 0) {
  return Header{kGuestCid, kHostCid, src_port, dst_port, len, kTypeStream, op, flags, buf_alloc, fwd_cnt};
}

inline bool wait_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  return true;
}

inline UniqueFd connect_unix(const std::string& path) {
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) return {};
  return fd;
}

inline UniqueFd listen_unix(const std::string& path) {
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) return {};
  if (::listen(fd.get(), 128) != 0) return {};
  return fd;
}

inline bool send_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// Reads until `n` bytes arrived, EOF, or the timeout; returns what came.
inline std::string recv_some(int fd, size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
  std::string out;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (out.size() < n && std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 20) <= 0) continue;
    char buf[65536];
    const ssize_t got = ::recv(fd, buf, std::min(sizeof(buf), n - out.size()), 0);
    if (got <= 0) break;
    out.append(buf, static_cast<size_t>(got));
  }
  return out;
}

// Reads a line (up to '\n', excluded) one byte at a time.
inline std::string recv_line(int fd) {
  std::string line;
  for (;;) {
    const std::string c = recv_some(fd, 1);
    if (c.empty() || c[0] == '\n') return line;
    line += c;
  }
}

// Whether the peer closed (a read returns 0, or ECONNRESET when it closed with our bytes unread,
// within the timeout).
inline bool sees_eof(int fd, std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return false;
  char c = 0;
  const ssize_t n = ::recv(fd, &c, 1, MSG_DONTWAIT);
  return n == 0 || (n < 0 && errno == ECONNRESET);
}

struct Packet {
  Header h;
  std::string data;
};

// A guest driving a Muxer directly: send() is the tx queue, recv() one rx buffer.
class MuxerGuest {
 public:
  explicit MuxerGuest(Muxer& m) : m_(m) {}
  void send(const Header& h, std::string_view payload = {}) {
    iovec v{const_cast<char*>(payload.data()), payload.size()};
    m_.on_guest_packet(h, std::span(&v, payload.empty() ? 0 : 1), payload.size());
  }
  std::optional<Packet> recv(size_t buffer = 4096) {
    std::string buf(buffer, '\0');
    iovec v{buf.data(), buf.size()};
    auto h = m_.next_rx(std::span(&v, 1));
    if (!h) return std::nullopt;
    buf.resize(h->len);
    return Packet{*h, buf};
  }
  // Serves host events until a packet for the guest comes out, or the timeout.
  std::optional<Packet> wait_packet(size_t buffer = 4096, std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    std::optional<Packet> p;
    (void)wait_until(
        [&] {
          m_.on_host_events();
          p = recv(buffer);
          return p.has_value();
        },
        timeout);
    return p;
  }

 private:
  Muxer& m_;
};

}  // namespace kiln::virtio::vsock::test
