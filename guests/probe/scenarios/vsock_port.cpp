#include "probe/scenarios/vsock_port.h"

namespace kiln::probe {

bool VsockPort::up(Mmio& t, driver::Arena& arena, bool quiet) {
  t_ = &t;
  arena.reset();
  held_ = -1;
  rx_malformed_ = 0;
  tx_bad_len_ = 0;
  events_ = 0;
  for (bool& b : tx_busy_) b = false;
  const uint64_t offered = t.host_features();
  auto accepted = driver::negotiate(t, driver::bit(driver::kFeatureIndirectDesc));
  if (!quiet) result("vsock.features", "offered=", hex(offered), " accepted=", hex(accepted.ok() ? *accepted : 0));
  if (!accepted || t.status() != 3) {
    return quiet ? false : check("vsock.negotiate", false, "status=", hex(t.status()));
  }
  if (!quiet) pass("vsock.negotiate");
  const driver::RingOptions opts = driver::ring_options(accepted.value(), 4);
  MmioQueue* queues[3] = {&rx_, &tx_, &event_};
  for (uint16_t i = 0; i < 3; ++i) {
    auto q = driver::setup_queue(t, arena, i, i == vs::kEventQueue ? 8 : kVsockQueueSize, opts);
    if (!q) {
      return quiet ? false : check("vsock.queue", false, "queue=", dec(i), " error=", driver::error_name(q.error()));
    }
    *queues[i] = q.value();
    queues[i]->ring().disable_interrupts();  // the probe polls
    if (!quiet) result("vsock.queue", "index=", dec(i), " size=", dec(queues[i]->ring().size()));
  }
  if (!quiet) pass("vsock.queue");
  for (uint16_t i = 0; i < kVsockRxBuffers; ++i) {
    auto b = arena.allocate(vs::kHeaderBytes + kVsockRxPayload, 64);
    if (!b) return false;
    rx_buf_[i] = b.value();
  }
  for (uint16_t i = 0; i < kVsockTxSlots; ++i) {
    auto b = arena.allocate(vs::kHeaderBytes + kVsockTxData, 64);
    if (!b) return false;
    tx_buf_[i] = b.value();
  }
  auto e = arena.allocate(8u * kVsockEventBuffers, 8);
  if (!e) return false;
  event_buf_ = e.value();
  const driver::Error ok = driver::driver_ok(t);
  if (!quiet && !check("vsock.driver_ok", ok == driver::Error::none, "status=", hex(t.status()))) return false;
  if (ok != driver::Error::none) return false;
  cid_ = t.config64(vs::kConfigGuestCid);
  // Buffers after DRIVER_OK, as Linux's virtio_vsock_probe fills them.
  for (uint16_t i = 0; i < kVsockRxBuffers && i < rx_.ring().size(); ++i) {
    if (!post_rx(i)) return false;
  }
  rx_.kick();
  for (uint16_t i = 0; i < kVsockEventBuffers && i < event_.ring().size(); ++i) {
    const driver::Segment seg{event_buf_.phys + 8u * i, 8};
    if (!event_.add(&seg, 0, 1, i).ok()) return false;
  }
  event_.kick();
  return true;
}

vs::Header VsockPort::header(uint16_t op, uint32_t src_port, uint32_t dst_port, uint32_t len) const {
  vs::Header h{};
  h.src_cid = cid_;
  h.dst_cid = vs::kHostCid;
  h.src_port = src_port;
  h.dst_port = dst_port;
  h.len = len;
  h.type = vs::kTypeStream;
  h.op = op;
  return h;
}

bool VsockPort::post_rx(uint16_t i) {
  const driver::Segment seg{rx_buf_[i].phys, vs::kHeaderBytes + kVsockRxPayload};
  return rx_.add(&seg, 0, 1, i).ok();
}

uint32_t VsockPort::reap_tx() {
  uint32_t n = 0;
  driver::Completion c;
  while (tx_.poll(c) == driver::Poll::done) {
    if (c.token < kVsockTxSlots) tx_busy_[c.token] = false;
    if (c.len != 0) ++tx_bad_len_;
    ++n;
  }
  return n;
}

bool VsockPort::tx_slot_free() {
  (void)reap_tx();
  for (uint16_t i = 0; i < kVsockTxSlots; ++i) {
    if (!tx_busy_[i]) return true;
  }
  return false;
}

bool VsockPort::take_slot(uint16_t& slot, uint64_t cycles) {
  const uint64_t start = rdtsc_ordered();
  for (;;) {
    for (uint16_t i = 0; i < kVsockTxSlots; ++i) {
      if (!tx_busy_[i]) {
        slot = i;
        return true;
      }
    }
    if (reap_tx() == 0) {
      if (rdtsc_ordered() - start > cycles) return false;
      cpu_relax();
    }
  }
}

bool VsockPort::drain_tx(uint64_t cycles) {
  const uint64_t start = rdtsc_ordered();
  while (tx_.ring().in_flight() != 0) {
    if (reap_tx() == 0) {
      if (rdtsc_ordered() - start > cycles) return false;
      cpu_relax();
    }
  }
  return true;
}

bool VsockPort::send(const vs::Header& h, const void* data, uint32_t len, bool kick) {
  if (len > kVsockTxData) return false;
  uint16_t slot = 0;
  if (!take_slot(slot, kWaitCycles)) return false;
  const driver::DmaBuffer& b = tx_buf_[slot];
  __builtin_memcpy(b.host, &h, vs::kHeaderBytes);
  if (len != 0) __builtin_memcpy(b.host + vs::kHeaderBytes, data, len);
  const driver::Segment segs[2] = {{b.phys, vs::kHeaderBytes}, {b.phys + vs::kHeaderBytes, len}};
  if (!tx_.add(segs, len != 0 ? 2 : 1, 0, slot).ok()) return false;
  tx_busy_[slot] = true;
  if (kick) tx_.kick();
  return true;
}

bool VsockPort::send_chain(const vs::Header& h, uint32_t header_bytes, const driver::Segment* extra, uint16_t n_extra,
                           bool kick) {
  if (header_bytes == 0 || header_bytes > vs::kHeaderBytes || n_extra > 3) return false;
  uint16_t slot = 0;
  if (!take_slot(slot, kWaitCycles)) return false;
  const driver::DmaBuffer& b = tx_buf_[slot];
  __builtin_memcpy(b.host, &h, header_bytes);
  driver::Segment segs[4];
  segs[0] = {b.phys, header_bytes};
  for (uint16_t i = 0; i < n_extra; ++i) segs[1 + i] = extra[i];
  if (!tx_.add(segs, static_cast<uint16_t>(1 + n_extra), 0, slot).ok()) return false;
  tx_busy_[slot] = true;
  if (kick) tx_.kick();
  return true;
}

bool VsockPort::receive(VsockPacket& out, uint64_t cycles) {
  repost();
  for (;;) {
    driver::Completion c;
    const driver::Poll p = wait_used(rx_, c, cycles);
    if (p == driver::Poll::empty) return false;
    if (p == driver::Poll::bad_id || c.token >= kVsockRxBuffers) {
      ++rx_malformed_;
      continue;
    }
    const auto slot = static_cast<uint16_t>(c.token);
    const driver::DmaBuffer& b = rx_buf_[slot];
    __builtin_memcpy(&out.h, b.host, vs::kHeaderBytes);
    if (c.len < vs::kHeaderBytes || out.h.len > kVsockRxPayload || c.len != vs::kHeaderBytes + out.h.len) {
      ++rx_malformed_;
      (void)post_rx(slot);
      rx_.kick();
      continue;
    }
    out.data = b.host + vs::kHeaderBytes;
    held_ = slot;
    return true;
  }
}

void VsockPort::repost() {
  if (held_ < 0) return;
  (void)post_rx(static_cast<uint16_t>(held_));
  rx_.kick();
  held_ = -1;
}

uint32_t VsockPort::events() {
  driver::Completion c;
  while (event_.poll(c) == driver::Poll::done) {
    ++events_;
    if (c.token < kVsockEventBuffers) {
      const driver::Segment seg{event_buf_.phys + 8u * c.token, 8};
      (void)event_.add(&seg, 0, 1, c.token);
      event_.kick();
    }
  }
  return events_;
}

}  // namespace kiln::probe
