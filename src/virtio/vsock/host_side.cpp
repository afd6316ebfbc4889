// The muxer's host half: the listening socket, host programs' CONNECT lines, connecting to
// "<uds_path>_<port>", and the byte moves between host sockets and guest buffers.
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

#include "virtio/vsock/muxer.h"

#include <sys/random.h>

namespace kiln::virtio::vsock {
namespace {

constexpr uint64_t kListenerToken = 0;
constexpr size_t kMaxConnectLine = 32;  // "CONNECT 4294967295\n" is 19

Result<sockaddr_un> unix_address(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof(addr.sun_path)) {
    return fail("unix socket path {:?} is empty or longer than {} bytes", path, sizeof(addr.sun_path) - 1);
  }
  std::memcpy(addr.sun_path, path.data(), path.size());
  return addr;
}

UniqueFd unix_socket() { return UniqueFd(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)); }

// A socket file left by an earlier process that nobody listens on any more.
bool stale_socket(const std::string& path, const sockaddr_un& addr) {
  struct stat st{};
  if (::lstat(path.c_str(), &st) != 0 || !S_ISSOCK(st.st_mode)) return false;
  UniqueFd probe = unix_socket();
  if (!probe) return false;
  return ::connect(probe.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0 && errno == ECONNREFUSED;
}

// "CONNECT <port>" (the newline already stripped).
std::optional<uint32_t> parse_connect(std::string_view line) {
  constexpr std::string_view kVerb = "CONNECT ";
  if (!line.starts_with(kVerb)) return std::nullopt;
  line.remove_prefix(kVerb.size());
  uint32_t port = 0;
  const auto [end, ec] = std::from_chars(line.data(), line.data() + line.size(), port);
  if (ec != std::errc() || end != line.data() + line.size() || line.empty()) return std::nullopt;
  return port;
}

// The first `limit` bytes of `iov`.
std::vector<iovec> clip(std::span<const iovec> iov, size_t limit) {
  std::vector<iovec> out;
  for (const iovec& v : iov) {
    if (limit == 0) break;
    const size_t n = std::min(limit, v.iov_len);
    out.push_back({v.iov_base, n});
    limit -= n;
  }
  return out;
}

}  // namespace

Result<std::unique_ptr<Muxer>> Muxer::create(MuxerOptions options, GuestErrors* errors) {
  auto addr = unix_address(options.uds_path);
  if (!addr) return wrap("vsock uds_path", addr.error());
  UniqueFd listener = unix_socket();
  if (!listener) return fail_io("socket(AF_UNIX)");
  if (stale_socket(options.uds_path, *addr)) (void)::unlink(options.uds_path.c_str());
  if (::bind(listener.get(), reinterpret_cast<const sockaddr*>(&*addr), sizeof(*addr)) != 0) {
    return fail_io("vsock: binding " + options.uds_path);
  }
  if (::listen(listener.get(), 128) != 0) return fail_io("vsock: listen on " + options.uds_path);
  UniqueFd epoll(::epoll_create1(EPOLL_CLOEXEC));
  if (!epoll) return fail_errno("epoll_create1");
  struct stat st{};
  const uint64_t inode = ::lstat(options.uds_path.c_str(), &st) == 0 ? st.st_ino : 0;
  std::unique_ptr<Muxer> m(new Muxer(std::move(options), errors, std::move(listener), std::move(epoll)));
  m->socket_inode_ = inode;
  if (!m->epoll_set(m->listener_.get(), kListenerToken, EPOLLIN, true)) return fail_errno("epoll_ctl (vsock listener)");
  return m;
}

bool Muxer::epoll_set(int fd, uint64_t token, uint32_t mask, bool add) {
  epoll_event ev{};
  ev.events = mask;
  ev.data.u64 = token;
  return ::epoll_ctl(epoll_.get(), add ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, fd, &ev) == 0;
}

void Muxer::on_host_events() {
  epoll_event events[64];
  const int n = ::epoll_wait(epoll_.get(), events, 64, 0);
  for (int i = 0; i < n; ++i) {
    const uint64_t token = events[i].data.u64;
    if (token == kListenerToken) {
      accept_host_programs();
    } else if (handshakes_.contains(token)) {
      read_handshake(token);
    } else {
      stream_event(token, events[i].events);
    }
  }
}

void Muxer::accept_host_programs() {
  for (int i = 0; i < 64; ++i) {
    UniqueFd fd(::accept4(listener_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
    if (!fd) return;  // EAGAIN (or an error the next readiness reports again)
    if (sockets() >= options_.max_connections) continue;  // closed: kiln is at its bound
    const uint64_t token = next_token_++;
    if (!epoll_set(fd.get(), token, EPOLLIN, true)) continue;
    handshakes_.emplace(token, Handshake{std::move(fd), {}});
  }
}

void Muxer::read_handshake(uint64_t token) {
  auto it = handshakes_.find(token);
  Handshake& hs = it->second;
  // One byte at a time: what follows the newline is stream data, left in the socket.
  for (;;) {
    char c = 0;
    const ssize_t n = ::recv(hs.fd.get(), &c, 1, MSG_DONTWAIT);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    if (n <= 0 || hs.line.size() >= kMaxConnectLine) break;  // gone, or not speaking the protocol
    if (c != '\n') {
      hs.line.push_back(c);
      continue;
    }
    const auto port = parse_connect(hs.line);
    if (!port) break;
    UniqueFd fd = std::move(hs.fd);
    handshakes_.erase(it);  // also leaves the epoll set below (re-added under a stream token)
    (void)::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd.get(), nullptr);
    add_stream(Connection::host_initiated({allocate_local_port(), *port}, options_.guest_cid, options_.buf_alloc),
               std::move(fd));
    return;
  }
  handshakes_.erase(it);  // closes the socket
}

uint32_t Muxer::first_local_port() {
  uint32_t r = 0;
  if (::getrandom(&r, sizeof(r), GRND_NONBLOCK) != static_cast<ssize_t>(sizeof(r))) r = 0;
  return (1u << 30) | (r & ((1u << 30) - 1));
}

uint32_t Muxer::allocate_local_port() const {
  // From 2^30 upwards, as Firecracker does, skipping ports a stream uses.
  for (;;) {
    const uint32_t port = next_local_port_;
    next_local_port_ = next_local_port_ == 0xfffffffeu ? 1u << 30 : next_local_port_ + 1;
    auto it = streams_.lower_bound(ConnKey{port, 0});
    if (it == streams_.end() || it->first.local_port != port) return port;
  }
}

void Muxer::connect_to_host(const Header& request) {
  const ConnKey key{request.dst_port, request.src_port};
  if (sockets() >= options_.max_connections) {
    errors_->report("REQUEST to port {}: {} connections already, reset", key.local_port, sockets());
    queue_rst(request);
    return;
  }
  UniqueFd fd = unix_socket();
  auto addr = unix_address(options_.uds_path + "_" + std::to_string(key.local_port));
  if (!fd || !addr || ::connect(fd.get(), reinterpret_cast<const sockaddr*>(&*addr), sizeof(*addr)) != 0) {
    queue_rst(request);  // nobody listens there (or its backlog is full)
    return;
  }
  add_stream(Connection::guest_initiated(key, options_.guest_cid, options_.buf_alloc, request), std::move(fd));
}

void Muxer::stream_event(uint64_t token, uint32_t events) {
  auto t = stream_tokens_.find(token);
  if (t == stream_tokens_.end()) return;  // closed earlier in this batch
  Stream& s = *streams_.at(t->second);
  if ((events & (EPOLLHUP | EPOLLERR)) != 0 && !s.hup) {
    // Always reported, whatever the interest: leave the set, then read what the host wrote before
    // it went (until a read returns 0) as the guest's credit allows.
    s.hup = true;
    s.readable = true;
    (void)::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, s.fd.get(), nullptr);
    s.registered = false;
  }
  if ((events & EPOLLIN) != 0) s.readable = true;
  if ((events & EPOLLOUT) != 0) flush_to_host(s);
  refresh(s);
}

void Muxer::write_to_host(Stream& s, std::span<const iovec> payload, uint32_t len) {
  const std::vector<iovec> data = clip(payload, len);
  size_t written = 0;
  if (s.pending.size() == s.pending_off && s.fd) {
    msghdr msg{};
    msg.msg_iov = const_cast<iovec*>(data.data());
    msg.msg_iovlen = data.size();
    ssize_t n = 0;
    do {
      n = ::sendmsg(s.fd.get(), &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
    } while (n < 0 && errno == EINTR);
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
      s.conn.reset();  // the host program is gone: the guest's data has nowhere to go
      return;
    }
    written = n > 0 ? static_cast<size_t>(n) : 0;
    s.conn.forwarded_to_host(static_cast<uint32_t>(written));
  }
  // The rest waits in kiln; the guest's credit bounds it by buf_alloc.
  if (s.pending_off > 0) {
    s.pending.erase(s.pending.begin(), s.pending.begin() + static_cast<ptrdiff_t>(s.pending_off));
    s.pending_off = 0;
  }
  size_t skip = written;
  for (const iovec& v : data) {
    const size_t from = std::min(skip, v.iov_len);
    skip -= from;
    const auto* base = static_cast<const uint8_t*>(v.iov_base);
    s.pending.insert(s.pending.end(), base + from, base + v.iov_len);
  }
}

void Muxer::flush_to_host(Stream& s) {
  while (s.pending.size() > s.pending_off && s.fd) {
    const ssize_t n = ::send(s.fd.get(), s.pending.data() + s.pending_off, s.pending.size() - s.pending_off,
                             MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    if (n <= 0) {
      s.conn.reset();
      return;
    }
    s.pending_off += static_cast<size_t>(n);
    s.conn.forwarded_to_host(static_cast<uint32_t>(n));
  }
  s.pending.clear();
  s.pending_off = 0;
  after_guest_shutdown(s);
}

uint32_t Muxer::read_from_host(Stream& s, std::span<const iovec> payload, uint32_t limit) {
  std::vector<iovec> into = clip(payload, limit);
  ssize_t n = 0;
  do {
    n = ::readv(s.fd.get(), into.data(), static_cast<int>(into.size()));
  } while (n < 0 && errno == EINTR);
  if (n > 0) return static_cast<uint32_t>(n);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
    s.readable = false;  // refresh() asks epoll again
    return 0;
  }
  s.readable = false;
  if (n == 0) {
    s.host_eof = true;
    if (s.hup) {
      s.conn.host_gone();
    } else {
      s.conn.host_eof();
    }
  } else {
    s.conn.reset();
  }
  return 0;
}

}  // namespace kiln::virtio::vsock
