// One virtio-net device for probe=net (net.cpp, net_bench.cpp) on either legacy transport: bring-up
// with its three queues (receiveq, transmitq, controlq), receive buffers kept posted, frames sent
// from a pool of transmit buffers, frames received with a time limit, control commands.
// The peer protocol (tests/support/net_echo.cpp): ethertype 0x88b5, payload op, arg, 0, 0, seq.
#pragma once

#include <cstdint>

#include "drivers/virtio/net.h"
#include "probe/lib/report.h"
#include "probe/lib/virtio_env.h"
#include "probe/scenarios/virtio_setup.h"

namespace kiln::probe {

namespace net = driver::net;

inline constexpr uint16_t kPeerEtherType = 0x88b5;
inline constexpr uint8_t kOpEcho = 1;
inline constexpr uint8_t kOpPartial = 2;
inline constexpr uint8_t kOpFilter = 3;
inline constexpr uint8_t kOpSink = 4;
inline constexpr uint8_t kOpCount = 5;
inline constexpr uint8_t kOpReply = 0x80;
inline constexpr uint32_t kEth = 14;
inline constexpr uint32_t kBufferBytes = 2048;  // one receive or transmit buffer, header included
inline constexpr uint16_t kRxBuffers = 64;
inline constexpr uint16_t kTxBuffers = 64;

// A received frame: its header and bytes stay valid until the next receive().
struct NetFrame {
  net::NetHeader hdr{};
  const uint8_t* data = nullptr;
  uint32_t len = 0;
};

template <class T>
class NetPort {
 public:
  // Negotiates `wanted` (ring features included), sets up the three queues with at most
  // `queue_size` entries, DRIVER_OK, posts the receive buffers. Checks net.negotiate, net.queue,
  // net.driver_ok. `quiet` skips the check lines (a bring-up after a reset).
  bool up(T& t, driver::Arena& arena, uint64_t wanted, uint16_t queue_size, bool quiet) {
    t_ = &t;
    arena.reset();
    offered_ = t.host_features();
    auto accepted = driver::negotiate(t, wanted);
    if (!quiet) result("net.features", "offered=", hex(offered_), " accepted=", hex(accepted.ok() ? *accepted : 0));
    if (!accepted || t.status() != 3) return quiet ? false : check("net.negotiate", false, "status=", hex(t.status()));
    if (!quiet) pass("net.negotiate");
    accepted_ = accepted.value();
    hdr_ = net::header_bytes(accepted_);
    const driver::RingOptions opts = driver::ring_options(accepted_, 8);
    const uint16_t queues = (accepted_ & driver::bit(net::kFeatureCtrlVq)) != 0 ? 3 : 2;
    for (uint16_t i = 0; i < queues; ++i) {
      auto q = driver::setup_queue(t, arena, i, queue_size, opts);
      if (!q) return quiet ? false : check("net.queue", false, "queue=", dec(i), " error=", driver::error_name(q.error()));
      q->ring().disable_interrupts();  // the probe polls
      (i == 0 ? rx_ : i == 1 ? tx_ : ctrl_) = q.value();
      if (!quiet) result("net.queue", "index=", dec(i), " size=", dec(q->ring().size()));
    }
    if (!quiet) pass("net.queue");
    for (uint16_t i = 0; i < kRxBuffers; ++i) {
      auto b = arena.allocate(kBufferBytes, 64);
      if (!b) return false;
      rx_buf_[i] = b.value();
    }
    for (uint16_t i = 0; i < kTxBuffers; ++i) {
      auto b = arena.allocate(kBufferBytes, 64);
      if (!b) return false;
      tx_buf_[i] = b.value();
      tx_busy_[i] = false;
    }
    auto c = net::CtrlCommand::allocate(arena);
    if (!c) return false;
    cmd_ = c.value();
    const driver::Error e = driver::driver_ok(t);
    if (!quiet && !check("net.driver_ok", e == driver::Error::none, "status=", hex(t.status()))) return false;
    if (e != driver::Error::none) return false;
    // Receive buffers after DRIVER_OK, as Linux posts them in ndo_open.
    for (uint16_t i = 0; i < kRxBuffers && i < rx_.ring().size(); ++i) {
      if (!net::post_receive(rx_, accepted_, rx_buf_[i], kBufferBytes, i).ok()) return false;
    }
    rx_.kick();
    return true;
  }

  [[nodiscard]] bool has(unsigned feature) const { return (accepted_ & driver::bit(feature)) != 0; }
  [[nodiscard]] uint64_t accepted() const { return accepted_; }
  [[nodiscard]] uint64_t offered() const { return offered_; }
  [[nodiscard]] uint32_t header_bytes() const { return hdr_; }
  [[nodiscard]] T& transport() { return *t_; }
  [[nodiscard]] driver::Queue<T>& tx() { return tx_; }

  void mac(uint8_t out[6]) {
    for (uint32_t i = 0; i < 6; ++i) out[i] = t_->config8(net::kConfigMac + i);
  }

  // Collects transmit completions; returns how many came back.
  uint32_t reap_tx() {
    uint32_t n = 0;
    driver::Completion c;
    while (tx_.poll(c) == driver::Poll::done) {
      if (c.token < kTxBuffers) tx_busy_[c.token] = false;
      ++n;
    }
    return n;
  }

  // A free transmit buffer (frame area: host + header_bytes()), waiting for completions up to
  // `cycles`; nullptr if none frees up.
  driver::DmaBuffer* tx_buffer(uint16_t& slot, uint64_t cycles = kWaitCycles) {
    const uint64_t start = rdtsc_ordered();
    for (;;) {
      for (uint16_t i = 0; i < kTxBuffers && i < tx_.ring().size() / 2; ++i) {
        if (!tx_busy_[i]) {
          slot = i;
          return &tx_buf_[i];
        }
      }
      if (reap_tx() == 0 && rdtsc_ordered() - start > cycles) return nullptr;
    }
  }

  // Sends the frame already written at tx_buffer()'s frame area; `kick` notifies.
  bool send(uint16_t slot, const net::NetHeader& h, uint32_t frame_len, bool kick = true) {
    if (!net::queue_transmit(tx_, accepted_, tx_buf_[slot], h, frame_len, slot).ok()) return false;
    tx_busy_[slot] = true;
    if (kick) tx_.kick();
    return true;
  }

  // A peer request to the peer: Ethernet header (broadcast: the tap accepts anything), op, arg,
  // seq, then `data_len` bytes of pattern; sent with header `h`.
  bool request(uint8_t op, uint8_t arg, uint32_t seq, uint32_t data_len, const net::NetHeader& h = {}, bool kick = true) {
    uint16_t slot = 0;
    driver::DmaBuffer* b = tx_buffer(slot);
    if (b == nullptr || kEth + 8 + data_len > kBufferBytes - hdr_) return false;
    uint8_t* f = b->host + hdr_;
    uint8_t own[6];
    mac(own);
    for (uint32_t i = 0; i < 6; ++i) {
      f[i] = 0xff;
      f[6 + i] = own[i];
    }
    f[12] = kPeerEtherType >> 8;
    f[13] = kPeerEtherType & 0xff;
    f[14] = op;
    f[15] = arg;
    f[16] = 0;
    f[17] = 0;
    __builtin_memcpy(f + 18, &seq, 4);
    for (uint32_t i = 0; i < data_len; ++i) f[kEth + 8 + i] = pattern(seq, i);
    return send(slot, h, kEth + 8 + data_len, kick);
  }

  // Data bytes; the first two are 0 (net.tx_csum puts the checksum there, seeded with 0).
  static uint8_t pattern(uint32_t seq, uint32_t i) { return i < 2 ? 0 : static_cast<uint8_t>(seq * 31 + i * 7 + 3); }

  // The next received frame within `cycles`; the previous frame's buffer is posted again first.
  bool receive(NetFrame& out, uint64_t cycles = kWaitCycles) {
    repost();
    driver::Completion c;
    if (wait_used(rx_, c, cycles) != driver::Poll::done || c.token >= kRxBuffers) return false;
    held_ = static_cast<int32_t>(c.token);
    const driver::DmaBuffer& b = rx_buf_[c.token];
    out.hdr = net::NetHeader{};
    __builtin_memcpy(&out.hdr, b.host, hdr_);
    out.data = b.host + hdr_;
    out.len = c.len > hdr_ ? c.len - hdr_ : 0;
    return c.len >= hdr_;
  }

  // The next frame from the peer that answers `op` (other frames are counted and skipped).
  bool receive_reply(uint8_t op, NetFrame& out, uint32_t& skipped, uint64_t cycles = kWaitCycles) {
    while (receive(out, cycles)) {
      if (out.len >= kEth + 8 && out.data[12] == (kPeerEtherType >> 8) && out.data[13] == (kPeerEtherType & 0xff) &&
          out.data[14] == (op | kOpReply)) {
        return true;
      }
      ++skipped;
    }
    return false;
  }

  // Posts the buffer of the frame last returned by receive().
  void repost() {
    if (held_ < 0) return;
    (void)net::post_receive(rx_, accepted_, rx_buf_[held_], kBufferBytes, static_cast<uint64_t>(held_));
    rx_.kick();
    held_ = -1;
  }

  // One control command; the ack, or 0xfe when the device did not answer.
  uint8_t control(uint8_t cls, uint8_t cmd, const void* data, uint32_t len) {
    auto ack = net::ctrl_command(ctrl_, cmd_, cls, cmd, data, len, ProbeWait{});
    return ack.ok() ? ack.value() : 0xfe;
  }

 private:
  T* t_ = nullptr;
  uint64_t offered_ = 0;
  uint64_t accepted_ = 0;
  uint32_t hdr_ = 10;
  driver::Queue<T> rx_;
  driver::Queue<T> tx_;
  driver::Queue<T> ctrl_;
  driver::DmaBuffer rx_buf_[kRxBuffers];
  driver::DmaBuffer tx_buf_[kTxBuffers];
  bool tx_busy_[kTxBuffers] = {};
  net::CtrlCommand cmd_;
  int32_t held_ = -1;
};

}  // namespace kiln::probe
