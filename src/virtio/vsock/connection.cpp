#include "virtio/vsock/connection.h"

namespace kiln::virtio::vsock {

Connection Connection::host_initiated(ConnKey key, uint64_t guest_cid, uint32_t buf_alloc) {
  Connection c(key, guest_cid, buf_alloc);
  c.state_ = State::kConnecting;
  c.pending_ = kRequest;
  return c;
}

Connection Connection::guest_initiated(ConnKey key, uint64_t guest_cid, uint32_t buf_alloc, const Header& request) {
  Connection c(key, guest_cid, buf_alloc);
  c.peer_buf_alloc_ = request.buf_alloc;
  c.peer_fwd_cnt_ = request.fwd_cnt;
  c.pending_ = kResponse;
  return c;
}

Connection::Event Connection::on_guest_packet(const Header& h) {
  if (state_ == State::kDone) return Event::kNone;
  // Every packet carries the sender's credit (5.10.6.3).
  peer_buf_alloc_ = h.buf_alloc;
  peer_fwd_cnt_ = h.fwd_cnt;
  switch (h.op) {
    case Op::kRst:
      peer_reset();
      return Event::kPeerReset;
    case Op::kResponse:
      if (state_ != State::kConnecting) break;
      state_ = State::kEstablished;
      return Event::kConnected;
    case Op::kRw: {
      if (state_ == State::kClosing) return Event::kNone;  // the host side is gone; RST follows
      if (state_ != State::kEstablished || guest_done_sending()) break;
      // An honest guest keeps unforwarded bytes within buf_alloc (its credit).
      if (uint64_t{unforwarded()} + h.len > buf_alloc_) break;
      rx_from_guest_ += h.len;
      return h.len > 0 ? Event::kData : Event::kNone;
    }
    case Op::kCreditUpdate:
      return Event::kNone;
    case Op::kCreditRequest:
      if (state_ != State::kConnecting) pending_ |= kCreditUpdate;
      return Event::kNone;
    case Op::kShutdown: {
      if (state_ == State::kConnecting) break;
      if (state_ == State::kClosing) {  // both sides are done
        reset();
        return Event::kClose;
      }
      const uint32_t before = guest_shutdown_;
      guest_shutdown_ |= h.flags & kShutdownBoth;
      return guest_shutdown_ != before ? Event::kShutdown : Event::kNone;
    }
    case Op::kRequest:
    case Op::kInvalid:
      break;
  }
  reset();
  return Event::kProtocol;
}

void Connection::host_eof() {
  if (state_ != State::kEstablished || (host_shutdown_ & kShutdownSend) != 0) return;
  host_shutdown_ |= kShutdownSend;
  shutdown_to_send_ |= kShutdownSend;
  pending_ |= kShutdown;
}

void Connection::host_gone() {
  if (state_ == State::kConnecting || guest_shutdown_ == kShutdownBoth) {
    reset();
    return;
  }
  if (state_ != State::kEstablished) return;
  host_shutdown_ = kShutdownBoth;
  shutdown_to_send_ = kShutdownBoth;
  pending_ |= kShutdown;
  pending_ &= static_cast<uint8_t>(~(kCreditUpdate | kCreditRequest));
  state_ = State::kClosing;
}

void Connection::reset() {
  pending_ = kRst;
  state_ = State::kDone;
}

void Connection::peer_reset() {
  pending_ = 0;
  state_ = State::kDone;
}

void Connection::forwarded_to_host(uint32_t n) {
  fwd_cnt_ += n;
  // Tell the guest of freed space in quarters of buf_alloc: an honest guest blocks only once
  // buf_alloc bytes are unacknowledged, and then at least a quarter is forwarded and untold.
  if (state_ == State::kEstablished && fwd_cnt_ - fwd_cnt_told_ >= buf_alloc_ / 4) pending_ |= kCreditUpdate;
}

uint32_t Connection::peer_credit() const {
  const uint32_t in_flight = rx_cnt_ - peer_fwd_cnt_;  // wraps as the counters do
  return in_flight >= peer_buf_alloc_ ? 0 : peer_buf_alloc_ - in_flight;
}

bool Connection::wants_host_data() const {
  return state_ == State::kEstablished && (host_shutdown_ & kShutdownSend) == 0 &&
         (guest_shutdown_ & kShutdownRcv) == 0 && peer_credit() > 0;
}

std::optional<Header> Connection::take_control() {
  if ((pending_ & kRst) != 0) {
    pending_ = 0;
    return header(Op::kRst, 0, 0);
  }
  for (const auto& [bit, op] : {std::pair{kRequest, Op::kRequest}, std::pair{kResponse, Op::kResponse},
                                std::pair{kShutdown, Op::kShutdown}, std::pair{kCreditUpdate, Op::kCreditUpdate},
                                std::pair{kCreditRequest, Op::kCreditRequest}}) {
    if ((pending_ & bit) == 0) continue;
    pending_ &= static_cast<uint8_t>(~bit);
    if (op == Op::kShutdown) return header(op, 0, shutdown_to_send_);
    if (op == Op::kCreditUpdate) pending_ &= static_cast<uint8_t>(~kCreditUpdate);
    return header(op, 0, 0);
  }
  return std::nullopt;
}

Header Connection::data_header(uint32_t len) { return header(Op::kRw, len, 0); }

Header Connection::header(Op op, uint32_t len, uint32_t flags) {
  // Every packet tells the guest kiln's credit; no separate CREDIT_UPDATE is due after it.
  fwd_cnt_told_ = fwd_cnt_;
  pending_ &= static_cast<uint8_t>(~kCreditUpdate);
  return Header{kHostCid, guest_cid_, key_.local_port, key_.peer_port, len, kTypeStream, op, flags, buf_alloc_, fwd_cnt_};
}

}  // namespace kiln::virtio::vsock
