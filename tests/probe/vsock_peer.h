// Host programs for probe=vsock (probe_vsock_test.cpp) on kiln's "<uds>_<port>" sockets, next to
// tests/linux/vsock_host.h's echo listener: a listener that runs a handler per connection, and
// the handlers the scenario's ports need (a burst of the test pattern, a peer that never reads,
// a count of kiln's open file descriptors).
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstddef>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace kiln::test {

class VsockPeer {
 public:
  // Runs serve(fd, stop) for each accepted connection on a thread of its own, then closes it.
  // `stop` turns true at destruction, when every connection still open is also shut down.
  using Serve = std::function<void(int fd, const std::atomic<bool>& stop)>;
  VsockPeer(std::string path, Serve serve);
  ~VsockPeer();
  VsockPeer(const VsockPeer&) = delete;
  VsockPeer& operator=(const VsockPeer&) = delete;
  [[nodiscard]] bool ok() const { return fd_ >= 0; }
  [[nodiscard]] int accepted() const { return accepted_.load(); }

 private:
  void accept_loop();
  std::string path_;
  Serve serve_;
  int fd_ = -1;
  std::atomic<bool> stop_{false};
  std::atomic<int> accepted_{0};
  std::mutex mu_;
  std::vector<int> conns_;
  std::vector<std::thread> threads_;
  std::thread acceptor_;
};

// Sends `bytes` of vsock_pattern at once, then reads (and drops) until EOF.
void vsock_burst_then_drain(int fd, size_t bytes);
// Holds the connection without ever reading it, until `stop`.
void vsock_never_read(const std::atomic<bool>& stop);

// Counts the entries of /proc/<pid>/fd when a connection arrives, answers "fds=<n>\n", then
// reads until EOF. The counts are kept in order.
class VsockFdCounter {
 public:
  void set_pid(pid_t pid) { pid_.store(pid); }
  void serve(int fd);
  [[nodiscard]] std::vector<int> counts() const;

 private:
  std::atomic<pid_t> pid_{0};
  mutable std::mutex mu_;
  std::vector<int> counts_;
};

}  // namespace kiln::test
