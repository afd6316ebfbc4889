#include "vsock_peer.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>

#include "vsock_host.h"

namespace kiln::test {

VsockPeer::VsockPeer(std::string path, Serve serve) : path_(std::move(path)), serve_(std::move(serve)) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path_.c_str(), sizeof(addr.sun_path) - 1);
  if (fd < 0 || ::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0 || ::listen(fd, 128) != 0) {
    if (fd >= 0) ::close(fd);
    return;
  }
  fd_ = fd;
  acceptor_ = std::thread([this] { accept_loop(); });
}

VsockPeer::~VsockPeer() {
  stop_ = true;
  if (acceptor_.joinable()) acceptor_.join();
  {
    std::lock_guard lock(mu_);
    for (const int c : conns_) ::shutdown(c, SHUT_RDWR);  // blocked reads return
  }
  for (auto& t : threads_) t.join();
  if (fd_ >= 0) {
    ::close(fd_);
    ::unlink(path_.c_str());
  }
}

void VsockPeer::accept_loop() {
  while (!stop_) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    const int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) continue;
    ++accepted_;
    std::lock_guard lock(mu_);
    conns_.push_back(c);
    threads_.emplace_back([this, c] {
      serve_(c, stop_);
      // Off the list before the number can be reused (the destructor shuts down listed fds).
      std::lock_guard inner(mu_);
      std::erase(conns_, c);
      ::close(c);
    });
  }
}

namespace {

void drain(int fd) {
  char buf[4096];
  while (::recv(fd, buf, sizeof buf, 0) > 0) {
  }
}

}  // namespace

void vsock_burst_then_drain(int fd, size_t bytes) {
  std::string data(bytes, '\0');
  for (size_t i = 0; i < bytes; ++i) data[i] = static_cast<char>(vsock_pattern(i));
  size_t sent = 0;
  while (sent < bytes) {
    const ssize_t n = ::send(fd, data.data() + sent, bytes - sent, MSG_NOSIGNAL);
    if (n <= 0) return;
    sent += static_cast<size_t>(n);
  }
  drain(fd);
}

void vsock_never_read(const std::atomic<bool>& stop) {
  while (!stop) std::this_thread::sleep_for(std::chrono::milliseconds(20));
}

void VsockFdCounter::serve(int fd) {
  int n = -1;
  if (const pid_t pid = pid_.load(); pid > 0) {
    std::error_code ec;
    n = 0;
    for (auto it = std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec);
         !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
      ++n;
    }
    if (ec) n = -1;
  }
  {
    std::lock_guard lock(mu_);
    counts_.push_back(n);
  }
  const std::string line = "fds=" + std::to_string(n) + "\n";
  (void)::send(fd, line.data(), line.size(), MSG_NOSIGNAL);
  drain(fd);
}

std::vector<int> VsockFdCounter::counts() const {
  std::lock_guard lock(mu_);
  return counts_;
}

}  // namespace kiln::test
