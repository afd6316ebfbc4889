// One virtio-vsock device (drivers/virtio/vsock.h) on virtio-mmio for probe=vsock, as a raw
// packet driver: bring-up with its three queues (rx, tx, event), rx and event buffers kept
// posted, packets sent from a pool of tx slots (header, then the payload in a descriptor of its
// own, as Linux sends them), packets received with a time limit. The probe polls; interrupts stay
// suppressed.
#pragma once

#include <cstdint>

#include "drivers/virtio/vsock.h"
#include "probe/lib/report.h"
#include "probe/lib/virtio_env.h"

namespace kiln::probe {

namespace vs = driver::vsock;

inline constexpr uint32_t kVsockRxPayload = 2048;  // payload bytes per rx buffer (after the header)
inline constexpr uint16_t kVsockRxBuffers = 128;
inline constexpr uint16_t kVsockTxSlots = 64;
inline constexpr uint32_t kVsockTxData = 1024;      // payload bytes a tx slot holds
inline constexpr uint16_t kVsockEventBuffers = 4;
inline constexpr uint16_t kVsockQueueSize = 256;
// How long "nothing more comes" is watched for: about 100 ms at 4 GHz.
inline constexpr uint64_t kQuietCycles = kWaitCycles / 50;

// A received packet: header and payload (h.len bytes) stay valid until the next receive().
struct VsockPacket {
  vs::Header h{};
  const uint8_t* data = nullptr;
};

class VsockPort {
 public:
  // Negotiates (no device features; INDIRECT_DESC if offered), sets up the three queues,
  // DRIVER_OK, posts the rx and event buffers. Checks vsock.negotiate, vsock.queue and
  // vsock.driver_ok unless `quiet` (a bring-up after a reset). Reads the guest CID.
  bool up(Mmio& t, driver::Arena& arena, bool quiet);

  [[nodiscard]] uint64_t cid() const { return cid_; }
  [[nodiscard]] Mmio& transport() { return *t_; }

  // A STREAM header from this guest to the host's `dst_port`; buf_alloc and fwd_cnt 0.
  [[nodiscard]] vs::Header header(uint16_t op, uint32_t src_port, uint32_t dst_port, uint32_t len = 0) const;

  // Queues the header and `len` payload bytes (copied; at most kVsockTxData) and notifies
  // (unless `kick` is false). False when no tx slot freed up in time.
  bool send(const vs::Header& h, const void* data = nullptr, uint32_t len = 0, bool kick = true);
  // The first `header_bytes` bytes of `h` (at most 44) in a descriptor of their own, then the
  // caller's `n_extra` readable segments: for malformed packets and big payloads.
  bool send_chain(const vs::Header& h, uint32_t header_bytes, const driver::Segment* extra, uint16_t n_extra,
                  bool kick = true);
  void kick_tx() { tx_.kick(); }
  // Whether a tx slot is free now (after collecting completions).
  [[nodiscard]] bool tx_slot_free();
  // Collects tx completions; returns how many came back.
  uint32_t reap_tx();
  // Waits until every tx chain came back; false if that takes longer than `cycles`.
  bool drain_tx(uint64_t cycles = kWaitCycles);
  // tx completions whose used length was not 0 (the device writes nothing into a tx chain).
  [[nodiscard]] uint32_t tx_bad_len() const { return tx_bad_len_; }

  // The next packet within `cycles`; the previous packet's buffer is posted again first. A
  // completion that is not a well-formed packet (shorter than the header, or a used length other
  // than 44 + len) is counted in rx_malformed() and skipped.
  bool receive(VsockPacket& out, uint64_t cycles = kWaitCycles);
  // Posts the buffer of the packet last returned by receive().
  void repost();
  [[nodiscard]] uint32_t rx_malformed() const { return rx_malformed_; }

  // Event queue completions since up().
  [[nodiscard]] uint32_t events();

 private:
  bool post_rx(uint16_t i);
  [[nodiscard]] bool take_slot(uint16_t& slot, uint64_t cycles);

  Mmio* t_ = nullptr;
  uint64_t cid_ = 0;
  MmioQueue rx_;
  MmioQueue tx_;
  MmioQueue event_;
  driver::DmaBuffer rx_buf_[kVsockRxBuffers];
  driver::DmaBuffer tx_buf_[kVsockTxSlots];
  driver::DmaBuffer event_buf_;
  bool tx_busy_[kVsockTxSlots] = {};
  int32_t held_ = -1;
  uint32_t rx_malformed_ = 0;
  uint32_t tx_bad_len_ = 0;
  uint32_t events_ = 0;
};

}  // namespace kiln::probe
