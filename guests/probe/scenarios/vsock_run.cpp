// VsockRun: the packet dispatch and stream steps probe=vsock's cases are built from.
#include "probe/scenarios/vsock_scenario.h"

namespace kiln::probe {

void VsockRun::init(VsockStream& s, uint32_t peer, uint32_t seed) {
  s = VsockStream{};
  s.local = next_port();
  s.peer = peer;
  s.seed = seed;
  track(s);
}

void VsockRun::track(VsockStream& s) {
  for (VsockStream*& t : tracked_) {
    if (t == nullptr || t == &s) {
      t = &s;
      return;
    }
  }
  // Full: the oldest goes (its packets become strays).
  for (uint32_t i = 1; i < kVsockMaxTracked; ++i) tracked_[i - 1] = tracked_[i];
  tracked_[kVsockMaxTracked - 1] = &s;
}

void VsockRun::untrack(VsockStream& s) {
  for (VsockStream*& t : tracked_) {
    if (t == &s) t = nullptr;
  }
}

void VsockRun::absorb(const VsockPacket& p) {
  ++packets_;
  const vs::Header& h = p.h;
  VsockStream* s = nullptr;
  for (VsockStream* t : tracked_) {
    if (t != nullptr && t->local == h.dst_port && t->peer == h.src_port) s = t;
  }
  const bool header_ok = h.dst_cid == port_.cid() && h.type == vs::kTypeStream &&
                         ((s != nullptr && s->any_src_cid) || h.src_cid == vs::kHostCid);
  if (!header_ok) {
    if (bad_headers_ < 4) {
      info("vsock.bad_header op=", vs::op_name(h.op), " src_cid=", dec(h.src_cid), " dst_cid=", dec(h.dst_cid),
           " type=", dec(h.type));
    }
    ++bad_headers_;
  }
  if (s == nullptr) {
    // A CREDIT_UPDATE may trail a stream that is over; anything else is unexplained.
    if (h.op == vs::kOpCreditUpdate) return;
    if (strays_ < 8) {
      info("vsock.stray op=", vs::op_name(h.op), " src_port=", dec(h.src_port), " dst_port=", dec(h.dst_port),
           " len=", dec(h.len), " flags=", hex(h.flags));
    }
    ++strays_;
    return;
  }
  ++s->packets;
  s->last = h;
  // 5.10.6.3: every packet carries the sender's credit.
  s->peer_buf_alloc = h.buf_alloc;
  s->peer_fwd_cnt = h.fwd_cnt;
  switch (h.op) {
    case vs::kOpResponse: ++s->responses; break;
    case vs::kOpRst: ++s->rsts; break;
    case vs::kOpShutdown:
      ++s->shutdowns;
      s->shutdown_flags |= h.flags;
      break;
    case vs::kOpRw:
      for (uint32_t i = 0; i < h.len; ++i) {
        if (p.data[i] != vsock_byte(s->seed, uint64_t{s->rx} + i)) ++s->bad_bytes;
      }
      s->rx += h.len;
      if (s->unacked() > s->max_unacked) s->max_unacked = s->unacked();
      break;
    case vs::kOpCreditUpdate: ++s->credit_updates; break;
    case vs::kOpCreditRequest:
      ++s->others;
      (void)control(*s, vs::kOpCreditUpdate);  // 5.10.6.3: answer with our credit
      break;
    default: ++s->others; break;
  }
}

void VsockRun::settle() {
  for (uint32_t i = 0; i < 4096; ++i) {
    VsockPacket p;
    (void)port_.reap_tx();
    if (!port_.receive(p, kQuietCycles)) return;
    absorb(p);
  }
}

bool VsockRun::control(VsockStream& s, uint16_t op, uint32_t flags) {
  if (s.auto_ack) s.fwd_told = s.rx;
  vs::Header h = port_.header(op, s.local, s.peer);
  h.flags = flags;
  h.buf_alloc = s.buf_alloc;
  h.fwd_cnt = s.fwd_told;
  return port_.send(h);
}

bool VsockRun::open(VsockStream& s) {
  if (!control(s, vs::kOpRequest)) return false;
  (void)pump([&] { return s.responses > 0 || s.rsts > 0; });
  return s.connected();
}

bool VsockRun::send_data(VsockStream& s, uint32_t len) {
  uint8_t buf[kVsockTxData];
  while (len > 0) {
    const uint32_t n = len < kVsockTxData ? len : kVsockTxData;
    // 5.10.6.3: never more than the device's buf_alloc beyond its fwd_cnt.
    auto credit_ok = [&] { return s.tx - s.peer_fwd_cnt + n <= s.peer_buf_alloc || s.rsts > 0; };
    if (!credit_ok() && !pump(credit_ok)) return false;
    if (s.rsts > 0) return false;
    for (uint32_t i = 0; i < n; ++i) buf[i] = vsock_byte(s.seed, uint64_t{s.tx} + i);
    if (s.auto_ack) s.fwd_told = s.rx;
    vs::Header h = port_.header(vs::kOpRw, s.local, s.peer, n);
    h.buf_alloc = s.buf_alloc;
    h.fwd_cnt = s.fwd_told;
    if (!port_.send(h, buf, n)) return false;
    s.tx += n;
    len -= n;
  }
  return true;
}

bool VsockRun::close(VsockStream& s) {
  if (!control(s, vs::kOpShutdown, vs::kShutdownBoth)) return false;
  return pump([&] { return s.rsts > 0; });
}

const char* VsockRun::echo_stream(uint32_t seed, uint32_t bytes) {
  VsockStream s;
  init(s, params_.port, seed);
  const char* why = "";
  if (!open(s)) {
    why = "open";
  } else if (!send_data(s, bytes)) {
    why = "send";
  } else if (!pump([&] { return s.rx >= bytes || s.rsts > 0; }) || s.rx != bytes || s.bad_bytes != 0) {
    why = "echo";
  } else if (!close(s)) {
    why = "close";
  }
  untrack(s);
  return why;
}

}  // namespace kiln::probe
