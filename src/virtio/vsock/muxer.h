// The host side of virtio-vsock as Firecracker's "hybrid vsock" does it: guest streams are bridged
// to unix sockets. A host program connects to `uds_path` and writes "CONNECT <port>\n"; kiln opens a
// stream to that guest port and answers "OK <local port>\n" once the guest accepts. A guest
// connection to the host (CID 2) port P goes to the unix socket "<uds_path>_P", or gets RST when
// nobody listens there.
//
// The muxer owns the connection table (keyed by local and peer port), the listening socket and
// one epoll fd over every host socket, which the device thread waits on. It is driven by three
// calls on that thread: on_host_events() (epoll reported something), on_guest_packet() (the tx
// queue) and next_rx() (a free rx buffer). It never buffers more than buf_alloc bytes per
// connection (what the guest may send unacknowledged) plus a bounded queue of RSTs; data for the
// guest is read from a host socket straight into the guest's buffer, and only within the guest's
// credit.
#pragma once

#include <sys/uio.h>

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/result.h"
#include "common/unique_fd.h"
#include "virtio/guest_errors.h"
#include "virtio/vsock/connection.h"

namespace kiln::virtio::vsock {

struct MuxerOptions {
  uint64_t guest_cid = 3;
  std::string uds_path;
  uint32_t buf_alloc = 256 * 1024;  // per connection, advertised to the guest
  size_t max_connections = 1024;    // streams plus host programs still sending CONNECT
  size_t max_queued_rsts = 256;     // RSTs for packets without a connection, waiting for rx buffers
};

class Muxer {
 public:
  // Binds and listens on uds_path (a stale socket file nobody listens on is replaced); the
  // destructor removes the file again (if it is still this socket's).
  [[nodiscard]] static Result<std::unique_ptr<Muxer>> create(MuxerOptions options, GuestErrors* errors);
  Muxer(const Muxer&) = delete;
  Muxer& operator=(const Muxer&) = delete;
  ~Muxer();

  // Readable when a host socket has something (level-triggered): call on_host_events().
  [[nodiscard]] int epoll_fd() const { return epoll_.get(); }
  void on_host_events();

  // A packet the driver sent (tx queue). `payload` views the first min(h.len, payload_bytes)
  // bytes after the header; `payload_bytes` is how many the chain holds.
  void on_guest_packet(const Header& h, std::span<const iovec> payload, uint64_t payload_bytes);

  // Packets wait for the guest (an rx buffer is worth taking).
  [[nodiscard]] bool has_rx() const { return !rsts_.empty() || !ready_.empty(); }
  // The next packet for the guest: its payload is written into `payload` (reading a host
  // socket), the header is returned for the caller to write in front of it. nullopt: nothing
  // after all (the buffer stays free).
  [[nodiscard]] std::optional<Header> next_rx(std::span<const iovec> payload);
  // Too many RSTs wait for rx buffers: take no tx packets until the guest gives some.
  [[nodiscard]] bool tx_blocked() const { return rsts_.size() >= options_.max_queued_rsts; }

  // The driver reset the device: every stream and pending host program is closed.
  void reset();

  [[nodiscard]] size_t connection_count() const { return streams_.size(); }
  [[nodiscard]] size_t handshake_count() const { return handshakes_.size(); }
  [[nodiscard]] size_t buffered_bytes() const;
  [[nodiscard]] const MuxerOptions& options() const { return options_; }

 private:
  struct Stream {
    Stream(Connection c, UniqueFd f) : conn(std::move(c)), fd(std::move(f)) {}
    Connection conn;
    UniqueFd fd;
    uint64_t token = 0;
    std::vector<uint8_t> pending;  // guest bytes the host socket has not taken yet (<= buf_alloc)
    size_t pending_off = 0;
    uint32_t mask = 0;          // epoll interest now
    bool registered = false;    // in the epoll set
    bool queued = false;        // in ready_
    bool readable = false;      // epoll said readable and a read has not said EAGAIN since
    bool hup = false;           // the host socket hung up (data before it may still be read)
    bool host_eof = false;      // a read returned 0
    bool wr_shut = false;       // shutdown(SHUT_WR) done after the guest's SHUTDOWN SEND
  };
  struct Handshake {
    UniqueFd fd;
    std::string line;
  };

  Muxer(MuxerOptions options, GuestErrors* errors, UniqueFd listener, UniqueFd epoll)
      : options_(std::move(options)), errors_(errors), listener_(std::move(listener)), epoll_(std::move(epoll)) {}

  // Host side (host_side.cpp).
  void accept_host_programs();
  void read_handshake(uint64_t token);
  void stream_event(uint64_t token, uint32_t events);
  void connect_to_host(const Header& request);
  [[nodiscard]] uint32_t allocate_local_port() const;
  void write_to_host(Stream& s, std::span<const iovec> payload, uint32_t len);
  void flush_to_host(Stream& s);
  [[nodiscard]] uint32_t read_from_host(Stream& s, std::span<const iovec> payload, uint32_t limit);
  [[nodiscard]] bool epoll_set(int fd, uint64_t token, uint32_t mask, bool add);

  // Guest side (muxer.cpp).
  void add_stream(Connection conn, UniqueFd fd);
  void queue_rst(const Header& h);
  void after_guest_shutdown(Stream& s);
  // Recomputes a stream's epoll interest and rx readiness after any change; forgets it once it is over.
  void refresh(Stream& s);
  [[nodiscard]] size_t sockets() const { return streams_.size() + handshakes_.size(); }

  MuxerOptions options_;
  GuestErrors* errors_;
  UniqueFd listener_;
  UniqueFd epoll_;
  std::map<ConnKey, std::unique_ptr<Stream>> streams_;
  std::unordered_map<uint64_t, ConnKey> stream_tokens_;
  std::unordered_map<uint64_t, Handshake> handshakes_;
  std::deque<ConnKey> ready_;  // streams with something for the guest (may hold stale keys)
  std::deque<Header> rsts_;    // RSTs for packets without a connection
  uint64_t next_token_ = 1;    // 0 is the listener
  // A random start in [2^30, 2^31): a VM restored from a snapshot may still hold (closed but not yet
  // released) sockets for the ports the previous kiln handed out from 2^30, and a new stream
  // with the same port pair would meet such a socket instead of the listener (and be reset).
  mutable uint32_t next_local_port_ = first_local_port();
  [[nodiscard]] static uint32_t first_local_port();
  uint64_t socket_inode_ = 0;  // of uds_path once bound
};

}  // namespace kiln::virtio::vsock
