// peer_socket: see peer_socket.h. AF_VSOCK per vsock(7): a sockaddr_vm of (CID, port); the host is
// CID 2 (VMADDR_CID_HOST) to its guests, so a listener bound to VMADDR_CID_ANY gets their connections.
#include "peer_socket.h"

#include <arpa/inet.h>
#include <linux/vm_sockets.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace vsock_peer {
namespace {

sockaddr_un unix_address(const std::string& path) {
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::strncpy(a.sun_path, path.c_str(), sizeof(a.sun_path) - 1);
  return a;
}

sockaddr_vm vsock_address(unsigned cid, unsigned port) {
  sockaddr_vm a{};
  a.svm_family = AF_VSOCK;
  a.svm_cid = cid;
  a.svm_port = port;
  return a;
}

// The number after PREFIX in TEXT ("vsock:3" -> 3), or false.
bool number_after(const std::string& text, size_t prefix, unsigned& out) {
  try {
    size_t used = 0;
    out = static_cast<unsigned>(std::stoul(text.substr(prefix), &used));
    return used == text.size() - prefix;
  } catch (...) {
    return false;
  }
}

int connected(int fd, const sockaddr* a, socklen_t len) {
  if (fd >= 0 && ::connect(fd, a, len) == 0) return fd;
  const int e = errno;
  if (fd >= 0) ::close(fd);
  errno = e;
  return -1;
}

int listening(int fd, const sockaddr* a, socklen_t len) {
  if (fd >= 0 && ::bind(fd, a, len) == 0 && ::listen(fd, 16) == 0) return fd;
  const int e = errno;
  if (fd >= 0) ::close(fd);
  errno = e;
  return -1;
}

int hybrid_connect(const std::string& path, unsigned port) {
  const sockaddr_un a = unix_address(path);
  const int fd = connected(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), reinterpret_cast<const sockaddr*>(&a), sizeof(a));
  if (fd < 0) return -1;
  const std::string line = "CONNECT " + std::to_string(port) + "\n";
  std::string reply;
  char c = 0;
  if (write_all(fd, line.data(), line.size()))
    while (reply.size() < 32 && ::recv(fd, &c, 1, 0) == 1 && c != '\n') reply += c;
  if (reply.starts_with("OK ")) return fd;
  std::fprintf(stderr, "vsock_peer: CONNECT %u answered '%s'\n", port, reply.c_str());
  ::close(fd);
  errno = ECONNREFUSED;
  return -1;
}

}  // namespace

bool write_all(int fd, const char* p, size_t n) {
  while (n > 0) {
    const ssize_t w = ::send(fd, p, n, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

int connect_to(const std::string& target, unsigned port) {
  unsigned cid = 0;
  if (target.starts_with("uds:")) return hybrid_connect(target.substr(4), port);
  if (target.starts_with("vsock:") && number_after(target, 6, cid)) {
    const int fd = ::socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
    // vsock's default connect time-out is 2 s (vsock(7)); a nested guest under TCG can be slower.
    const timeval limit{30, 0};
    if (fd >= 0) (void)::setsockopt(fd, AF_VSOCK, SO_VM_SOCKETS_CONNECT_TIMEOUT, &limit, sizeof(limit));
    const sockaddr_vm a = vsock_address(cid, port);
    return connected(fd, reinterpret_cast<const sockaddr*>(&a), sizeof(a));
  }
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  if (!target.starts_with("tcp:") || ::inet_pton(AF_INET, target.c_str() + 4, &a.sin_addr) != 1) {
    errno = EINVAL;
    return -1;
  }
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const int one = 1;
  if (fd >= 0) (void)::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return connected(fd, reinterpret_cast<const sockaddr*>(&a), sizeof(a));
}

int listen_on(const std::string& where) {
  unsigned port = 0;
  if (where.starts_with("uds:")) {
    const sockaddr_un a = unix_address(where.substr(4));
    return listening(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), reinterpret_cast<const sockaddr*>(&a), sizeof(a));
  }
  if (where.starts_with("vsock:") && number_after(where, 6, port)) {
    const sockaddr_vm a = vsock_address(VMADDR_CID_ANY, port);
    return listening(::socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0), reinterpret_cast<const sockaddr*>(&a), sizeof(a));
  }
  if (!where.starts_with("tcp:") || !number_after(where, 4, port)) {
    errno = EINVAL;
    return -1;
  }
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const int one = 1;
  if (fd >= 0) (void)::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  return listening(fd, reinterpret_cast<const sockaddr*>(&a), sizeof(a));
}

}  // namespace vsock_peer
