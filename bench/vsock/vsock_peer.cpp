// vsock_peer: the host side of bench/vsock/vsock_bench, for kiln's hybrid vsock (Firecracker's unix
// socket: "CONNECT <port>\n", "OK <port>\n"; the guest's connections to "<uds>_<port>"), for
// QEMU's vhost-vsock (AF_VSOCK to the guest's CID; the guest's connections to the host, CID 2) and,
// as the reference, plain TCP to the same guest over virtio-net. The guest side is kiln-vsock
// (guest/initramfs/kiln-vsock.c). Each subcommand prints one line of key=value figures.
//
//   vsock_peer send TARGET PORT BYTES   connect, send BYTES, half-close, wait for the guest's close
//                                       (kiln-vsock recv): host->guest throughput
//   vsock_peer sink LISTEN              take one connection and read it to EOF, then close
//                                       (kiln-vsock put): guest->host throughput, accept to EOF
//   vsock_peer rtt TARGET PORT N        one connection, N one-byte round trips (kiln-vsock echo)
//   vsock_peer cps TARGET PORT N        N connections, one after another, each closed once it is
//                                       established (kiln-vsock accept)
// TARGET is uds:PATH (kiln's uds_path), vsock:CID or tcp:ADDRESS; LISTEN is uds:PATH
// (<uds_path>_<port>), vsock:PORT or tcp:PORT (peer_socket.h).
#include "peer_socket.h"

#include <sys/socket.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace {

using vsock_peer::connect_to;
using vsock_peer::listen_on;
using vsock_peer::write_all;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

int fail(const std::string& what) {
  std::fprintf(stderr, "vsock_peer: %s: %s\n", what.c_str(), std::strerror(errno));
  return 1;
}

int send_bytes(const std::string& target, unsigned port, uint64_t bytes) {
  const int fd = connect_to(target, port);
  if (fd < 0) return fail("send: connect");
  std::vector<char> buf(256 << 10, 0);
  const auto start = Clock::now();
  for (uint64_t left = bytes; left > 0;) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(left, buf.size()));
    if (!write_all(fd, buf.data(), n)) return fail("send");
    left -= n;
  }
  ::shutdown(fd, SHUT_WR);
  while (::recv(fd, buf.data(), buf.size(), 0) > 0) {}  // the guest closes once it has read everything
  const double s = seconds_since(start);
  ::close(fd);
  std::printf("send bytes=%llu seconds=%.3f mbit=%.2f\n", static_cast<unsigned long long>(bytes), s,
              static_cast<double>(bytes) * 8 / s / 1e6);
  return 0;
}

int sink(const std::string& where) {
  const int l = listen_on(where);
  if (l < 0) return fail("sink: listen on " + where);
  std::printf("sink listening\n");
  std::fflush(stdout);
  const int fd = ::accept4(l, nullptr, nullptr, SOCK_CLOEXEC);
  if (fd < 0) return fail("sink: accept");
  const auto start = Clock::now();
  std::vector<char> buf(256 << 10);
  uint64_t bytes = 0;
  for (ssize_t n; (n = ::recv(fd, buf.data(), buf.size(), 0)) != 0;) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail("sink: recv");
    bytes += static_cast<uint64_t>(n);
  }
  const double s = seconds_since(start);
  ::close(fd);
  std::printf("sink bytes=%llu seconds=%.3f mbit=%.2f\n", static_cast<unsigned long long>(bytes), s,
              static_cast<double>(bytes) * 8 / s / 1e6);
  return 0;
}

int round_trips(const std::string& target, unsigned port, int count) {
  const int fd = connect_to(target, port);
  if (fd < 0) return fail("rtt: connect");
  std::vector<double> us;
  for (int i = 0; i < count + 5; ++i) {  // the first 5 warm up
    const auto t = Clock::now();
    char c = static_cast<char>(i);
    if (!write_all(fd, &c, 1) || ::recv(fd, &c, 1, MSG_WAITALL) != 1) return fail("rtt");
    if (i >= 5) us.push_back(seconds_since(t) * 1e6);
  }
  ::close(fd);
  std::sort(us.begin(), us.end());
  double sum = 0;
  for (const double u : us) sum += u;
  std::printf("rtt n=%d median_us=%.1f mean_us=%.1f min_us=%.1f max_us=%.1f\n", count, us[us.size() / 2],
              sum / static_cast<double>(us.size()), us.front(), us.back());
  return 0;
}

int connections(const std::string& target, unsigned port, int count) {
  const auto start = Clock::now();
  for (int i = 0; i < count; ++i) {
    const int fd = connect_to(target, port);
    if (fd < 0) return fail("cps: connection " + std::to_string(i));
    ::close(fd);
  }
  const double s = seconds_since(start);
  std::printf("cps n=%d seconds=%.3f per_second=%.1f\n", count, s, count / s);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"vsock_peer: the host side of bench/vsock/vsock_bench"};
  app.require_subcommand(1);
  std::string target, where;
  unsigned port = 0;
  uint64_t bytes = 0;
  int count = 0;
  auto* send = app.add_subcommand("send", "host->guest: BYTES to the guest's PORT, timed to the guest's close");
  send->add_option("target", target, "uds:PATH, vsock:CID or tcp:ADDRESS")->required();
  send->add_option("port", port)->required();
  send->add_option("bytes", bytes)->required();
  auto* sink_cmd = app.add_subcommand("sink", "guest->host: one connection read to EOF, timed from accept");
  sink_cmd->add_option("listen", where, "uds:PATH, vsock:PORT or tcp:PORT")->required();
  auto* rtt = app.add_subcommand("rtt", "one-byte round trips on one connection");
  auto* cps = app.add_subcommand("cps", "connections per second");
  for (auto* c : {rtt, cps}) {
    c->add_option("target", target, "uds:PATH, vsock:CID or tcp:ADDRESS")->required();
    c->add_option("port", port)->required();
    c->add_option("count", count)->required()->check(CLI::PositiveNumber);
  }
  CLI11_PARSE(app, argc, argv);
  if (send->parsed()) return send_bytes(target, port, bytes);
  if (sink_cmd->parsed()) return sink(where);
  if (rtt->parsed()) return round_trips(target, port, count);
  return connections(target, port, count);
}
