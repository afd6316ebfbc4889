// The host side of the vsock guest tests (Firecracker's hybrid vsock): a host program's
// "CONNECT <port>" through kiln's unix socket, an echo round trip with the guest tool's pattern
// (guest/initramfs/kiln-vsock.c), and an echo listener on "<uds>_<port>" for guest connections.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace kiln::test {

// Byte i of kiln-vsock's test pattern.
inline uint8_t vsock_pattern(uint64_t i) { return static_cast<uint8_t>((i * 131 + i / 4093) & 0xff); }

struct VsockStream {
  int fd = -1;             // -1 on failure
  uint32_t local_port = 0;  // from "OK <port>"
  std::string error;
  VsockStream() = default;
  VsockStream(VsockStream&& o) noexcept;
  VsockStream& operator=(VsockStream&& o) noexcept;
  ~VsockStream();
};

// Connects to kiln's uds_path and asks for guest port `port`; waits for "OK <port>\n".
VsockStream vsock_connect(const std::string& uds_path, uint32_t port, std::chrono::milliseconds timeout);

// Sends `bytes` of the pattern from offset `start` and reads the echo at the same time; returns ""
// when every byte came back equal, else what went wrong. With `half_close`, shuts down the
// writing side after the data and expects EOF after the echo.
std::string vsock_echo_round_trip(int fd, uint64_t bytes, uint64_t start, std::chrono::milliseconds timeout,
                                  bool half_close = false);

// Sends all of `bytes`, half-closes and waits for the peer's EOF (the guest's `kiln-vsock recv`
// closes once it has everything); "" on success, else what went wrong.
std::string vsock_send_all(int fd, const std::string& bytes, std::chrono::milliseconds timeout);

// Listens on `path` (kiln's "<uds_path>_<port>") and keeps what each connection sends until its
// EOF, then closes it (the guest's `kiln-vsock put` waits for that close).
class VsockSink {
 public:
  explicit VsockSink(std::string path);
  ~VsockSink();
  [[nodiscard]] bool ok() const { return fd_ >= 0; }
  // Waits until `n` connections have ended; what each sent, in the order they ended. Fewer
  // entries when the time ran out.
  std::vector<std::string> wait_for(size_t n, std::chrono::milliseconds timeout);

 private:
  void serve();
  std::string path_;
  int fd_ = -1;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::condition_variable ended_;
  std::vector<std::string> received_;
  std::vector<std::thread> threads_;
  std::thread acceptor_;
};

// Listens on `path` (kiln's "<uds_path>_<port>") and echoes each connection on its own thread.
class VsockEchoListener {
 public:
  explicit VsockEchoListener(std::string path);
  ~VsockEchoListener();
  [[nodiscard]] bool ok() const { return fd_ >= 0; }
  [[nodiscard]] int accepted() const { return accepted_.load(); }
  // Closes every accepted connection (a host peer that dies mid-stream).
  void drop_all();

 private:
  void serve();
  std::string path_;
  int fd_ = -1;
  std::atomic<bool> stop_{false};
  std::atomic<int> accepted_{0};
  std::mutex mu_;
  std::vector<int> conns_;
  std::vector<std::thread> threads_;
  std::thread acceptor_;
};

}  // namespace kiln::test
