// net_tcp: one TCP transfer for the network tests' host side (run inside the test's namespace with
// `ip netns exec`; the host has no netcat).
//   net_tcp send ADDR PORT FILE [SECONDS]   connects (retrying while refused, up to SECONDS, default
//                                           120), sends FILE, shuts down its side, reads until the
//                                           peer closes
//   net_tcp recv PORT FILE                  listens on 0.0.0.0:PORT, accepts one connection, writes
//                                           what comes until EOF to FILE
//   net_tcp echo PORT                       listens, accepts one connection and sends back what
//                                           comes until EOF; prints each chunk it echoed as
//                                           "echoed <text>" (a line per chunk)
// Prints "net_tcp listening" (recv, echo) once it listens, "net_tcp done BYTES" at the end; exit 0 on
// success, 1 on an error (with the reason on stderr).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>

namespace {

int fail(const char* what) {
  std::fprintf(stderr, "net_tcp: %s: %s\n", what, std::strerror(errno));
  return 1;
}

int send_file(const char* addr, int port, const char* path, int seconds) {
  std::ifstream in(path, std::ios::binary);
  const std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in && !in.eof()) return fail("read file");
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(static_cast<uint16_t>(port));
  if (::inet_pton(AF_INET, addr, &to.sin_addr) != 1) return fail("address");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  int fd = -1;
  for (;;) {
    fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return fail("socket");
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&to), sizeof to) == 0) break;
    ::close(fd);
    if (std::chrono::steady_clock::now() > deadline) return fail("connect (gave up)");
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return fail("write");
    done += static_cast<size_t>(n);
  }
  ::shutdown(fd, SHUT_WR);
  char buf[4096];
  while (::read(fd, buf, sizeof buf) > 0) {
  }
  ::close(fd);
  std::printf("net_tcp done %zu\n", done);
  return 0;
}

int listen_on(int port) {
  const int ls = ::socket(AF_INET, SOCK_STREAM, 0);
  const int one = 1;
  ::setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in at{};
  at.sin_family = AF_INET;
  at.sin_port = htons(static_cast<uint16_t>(port));
  if (ls < 0 || ::bind(ls, reinterpret_cast<const sockaddr*>(&at), sizeof at) != 0 || ::listen(ls, 1) != 0) {
    return -1;
  }
  std::printf("net_tcp listening\n");
  std::fflush(stdout);
  return ls;
}

int receive_file(int port, const char* path) {
  const int ls = listen_on(port);
  if (ls < 0) return fail("listen");
  const int fd = ::accept(ls, nullptr, nullptr);
  if (fd < 0) return fail("accept");
  std::ofstream out(path, std::ios::binary);
  size_t total = 0;
  char buf[65536];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail("read");
    if (n == 0) break;
    out.write(buf, n);
    total += static_cast<size_t>(n);
  }
  ::close(fd);
  ::close(ls);
  out.close();
  if (!out) return fail("write file");
  std::printf("net_tcp done %zu\n", total);
  return 0;
}

int echo(int port) {
  const int ls = listen_on(port);
  if (ls < 0) return fail("listen");
  const int fd = ::accept(ls, nullptr, nullptr);
  if (fd < 0) return fail("accept");
  size_t total = 0;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail("read");
    if (n == 0) break;
    if (::write(fd, buf, static_cast<size_t>(n)) != n) return fail("write");
    total += static_cast<size_t>(n);
    std::string text(buf, static_cast<size_t>(n));
    for (char& c : text) c = c == '\n' ? ' ' : c;
    std::printf("echoed %s\n", text.c_str());
    std::fflush(stdout);
  }
  ::close(fd);
  ::close(ls);
  std::printf("net_tcp done %zu\n", total);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 5 && std::strcmp(argv[1], "send") == 0) {
    return send_file(argv[2], std::atoi(argv[3]), argv[4], argc > 5 ? std::atoi(argv[5]) : 120);
  }
  if (argc == 4 && std::strcmp(argv[1], "recv") == 0) return receive_file(std::atoi(argv[2]), argv[3]);
  if (argc == 3 && std::strcmp(argv[1], "echo") == 0) return echo(std::atoi(argv[2]));
  std::fprintf(stderr, "usage: net_tcp send ADDR PORT FILE [SECONDS] | recv PORT FILE | echo PORT\n");
  return 2;
}
