#include "virtio/vsock/muxer.h"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

namespace kiln::virtio::vsock {

Muxer::~Muxer() {
  struct stat st{};
  if (socket_inode_ != 0 && ::lstat(options_.uds_path.c_str(), &st) == 0 && st.st_ino == socket_inode_) {
    (void)::unlink(options_.uds_path.c_str());
  }
}

void Muxer::on_guest_packet(const Header& h, std::span<const iovec> payload, uint64_t payload_bytes) {
  const TxCheck check = check_tx_header(h, options_.guest_cid, payload_bytes);
  if (check != TxCheck::kOk) {
    errors_->report("tx packet {} {}:{} -> {}:{}: {}", to_string(h.op), h.src_cid, h.src_port, h.dst_cid, h.dst_port,
                    to_string(check));
    // Nobody to answer a packet that does not come from the guest's CID.
    if (check == TxCheck::kBadSrcCid) return;
    // A malformed packet for an open stream ends it: the RST closes the guest's side (5.10.6.4), so
    // the host socket goes too. A malformed RST just ends it.
    auto it = check != TxCheck::kBadDstCid ? streams_.find(ConnKey{h.dst_port, h.src_port}) : streams_.end();
    if (it != streams_.end()) {
      Stream& s = *it->second;
      if (h.op == Op::kRst) {
        s.conn.peer_reset();
      } else {
        s.conn.reset();
      }
      refresh(s);
      return;
    }
    if (h.op != Op::kRst) queue_rst(h);  // never answer an RST
    return;
  }
  const ConnKey key{h.dst_port, h.src_port};
  auto it = streams_.find(key);
  if (it == streams_.end()) {
    if (h.op == Op::kRequest) {
      connect_to_host(h);
    } else if (h.op != Op::kRst) {
      queue_rst(h);  // a stream kiln does not know (or has just closed)
    }
    return;
  }
  Stream& s = *it->second;
  switch (s.conn.on_guest_packet(h)) {
    case Connection::Event::kNone:
      break;
    case Connection::Event::kData:
      write_to_host(s, payload, h.len);
      break;
    case Connection::Event::kConnected: {
      // Firecracker's answer to the host program's CONNECT.
      const std::string ok = "OK " + std::to_string(key.local_port) + "\n";
      if (::send(s.fd.get(), ok.data(), ok.size(), MSG_NOSIGNAL | MSG_DONTWAIT) != static_cast<ssize_t>(ok.size())) {
        s.conn.reset();
      }
      break;
    }
    case Connection::Event::kShutdown:
      after_guest_shutdown(s);
      break;
    case Connection::Event::kProtocol:
      errors_->report("{} on stream {}:{} in a state that does not allow it (or beyond its credit): reset",
                      to_string(h.op), key.peer_port, key.local_port);
      break;
    case Connection::Event::kPeerReset:
    case Connection::Event::kClose:
      break;
  }
  refresh(s);
}

void Muxer::after_guest_shutdown(Stream& s) {
  if (s.pending.size() > s.pending_off) return;  // flush_to_host calls again once drained
  if (s.conn.guest_shutdown() == kShutdownBoth) {
    // The guest closed: every byte it sent is with the host; end with RST (5.10.6.4).
    s.conn.reset();
    return;
  }
  if (s.conn.guest_done_sending() && !s.wr_shut && s.fd) {
    (void)::shutdown(s.fd.get(), SHUT_WR);
    s.wr_shut = true;
  }
}

void Muxer::queue_rst(const Header& h) {
  if (rsts_.size() >= options_.max_queued_rsts) return;  // tx stops taking packets at the bound
  rsts_.push_back(Header{kHostCid, options_.guest_cid, h.dst_port, h.src_port, 0, kTypeStream, Op::kRst, 0, 0, 0});
}

void Muxer::add_stream(Connection conn, UniqueFd fd) {
  auto stream = std::make_unique<Stream>(std::move(conn), std::move(fd));
  Stream& s = *stream;
  s.token = next_token_++;
  const ConnKey key = s.conn.key();
  streams_[key] = std::move(stream);
  stream_tokens_[s.token] = key;
  if (epoll_set(s.fd.get(), s.token, 0, true)) {
    s.registered = true;
  } else {
    s.conn.reset();
  }
  refresh(s);
}

void Muxer::refresh(Stream& s) {
  using State = Connection::State;
  // A dead host socket whose data the guest will not read any more (or cannot: not accepted yet).
  if (s.hup && s.conn.state() != State::kDone &&
      (s.conn.state() == State::kConnecting || s.host_eof || (s.conn.guest_shutdown() & kShutdownRcv) != 0)) {
    s.conn.host_gone();
  }
  if (s.conn.state() == State::kDone || s.conn.state() == State::kClosing) {
    stream_tokens_.erase(s.token);
    s.fd.reset();  // closing also leaves the epoll set
    s.registered = false;
    s.pending = {};
    s.pending_off = 0;
  }
  const bool has_rx = s.conn.has_control() || (s.readable && s.conn.wants_host_data());
  if (s.conn.state() == State::kDone && !has_rx) {
    streams_.erase(s.conn.key());  // s is gone
    return;
  }
  if (s.registered) {
    uint32_t mask = 0;
    if (s.conn.wants_host_data() && !s.readable) mask |= EPOLLIN;
    if (s.pending.size() > s.pending_off) mask |= EPOLLOUT;
    if (mask != s.mask && epoll_set(s.fd.get(), s.token, mask, false)) s.mask = mask;
  }
  if (has_rx && !s.queued) {
    ready_.push_back(s.conn.key());
    s.queued = true;
  }
}

std::optional<Header> Muxer::next_rx(std::span<const iovec> payload) {
  if (!rsts_.empty()) {
    const Header h = rsts_.front();
    rsts_.pop_front();
    return h;
  }
  uint32_t capacity = 0;
  for (const iovec& v : payload) capacity += static_cast<uint32_t>(std::min<size_t>(v.iov_len, kMaxPayload));
  capacity = std::min(capacity, kMaxPayload);
  // Each pass either sends something or takes a stream off the list (a stream that has more
  // goes to the back), so this ends.
  for (size_t budget = ready_.size() * 2 + 1; budget > 0 && !ready_.empty(); --budget) {
    const ConnKey key = ready_.front();
    ready_.pop_front();
    auto it = streams_.find(key);
    if (it == streams_.end()) continue;
    Stream& s = *it->second;
    s.queued = false;
    std::optional<Header> out = s.conn.take_control();
    if (!out && s.readable && s.conn.wants_host_data() && capacity > 0) {
      const uint32_t n = read_from_host(s, payload, std::min(capacity, s.conn.peer_credit()));
      if (n > 0) {
        out = s.conn.data_header(n);
        s.conn.sent_to_guest(n);
      }
    }
    refresh(s);
    if (out) return out;
  }
  return std::nullopt;
}

void Muxer::reset() {
  streams_.clear();  // closes every host socket
  stream_tokens_.clear();
  handshakes_.clear();
  ready_.clear();
  rsts_.clear();
}

size_t Muxer::buffered_bytes() const {
  size_t n = 0;
  for (const auto& [key, s] : streams_) n += s->pending.size() - s->pending_off;
  return n;
}

}  // namespace kiln::virtio::vsock
