// virtio-net (device ID 1, virtio 0.9.5 Appendix C "Network Device") over a host backend (a tap):
// receiveq 0, transmitq 1, controlq 2. Frames move between the tap and the guest's buffers with
// readv/writev straight on guest memory (the checked iovecs of SegmentCursor); the only copy is of
// the rare receive frame that outgrows the buffers the guest has posted (kept, at most one, until
// it posts more: see net_rx.cpp). Offloads follow what the tap accepts and the guest acknowledges
// (TUNSETOFFLOAD); the control queue carries the receive mode, MAC and VLAN filters, guest offloads
// and announcement acks (the filter applies to received frames as QEMU's does).
//
// Guest mistakes (a header shorter than negotiated, too many segments, a frame above 64 KiB, a
// chain outside RAM) drop that frame: counted in guest_errors() and in counters().
#pragma once

#include <sys/uio.h>

#include <atomic>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "common/unique_fd.h"
#include "virtio/net/backend.h"
#include "virtio/net/mac_address.h"
#include "virtio/net/net_spec.h"
#include "virtio/net/rx_filter.h"
#include "virtio/queue_device.h"
#include "virtio/spec.h"

namespace kiln::virtio::net {

// Frames, bytes and drops per direction (bytes count Ethernet frames, without the virtio header).
// rx_filtered: frames the receive filter kept from the guest (not drops: the guest asked).
struct NetCounters {
  uint64_t rx_frames = 0;
  uint64_t rx_bytes = 0;
  uint64_t rx_drops = 0;
  uint64_t rx_filtered = 0;
  uint64_t tx_frames = 0;
  uint64_t tx_bytes = 0;
  uint64_t tx_drops = 0;
};

class NetDevice final : public QueueDevice {
 public:
  static constexpr uint16_t kRxQueue = 0;
  static constexpr uint16_t kTxQueue = 1;
  static constexpr uint16_t kCtrlQueue = 2;
  static constexpr uint16_t kQueueSize = 256;
  static constexpr uint16_t kCtrlQueueSize = 64;
  // Work per wake-up of the device thread, per queue (then it kicks itself: QueueDevice::kick).
  static constexpr unsigned kRxBatch = 256;
  static constexpr unsigned kTxBatch = 256;
  static constexpr unsigned kCtrlBatch = 64;
  // Most segments of one transmit chain (IOV_MAX; Linux uses at most MAX_SKB_FRAGS + 2).
  static constexpr size_t kMaxTxSegments = 1024;
  // Most iovecs in one receive read (IOV_MAX, one kept for the spill buffer).
  static constexpr size_t kMaxRxIovecs = 1023;

  NetDevice(std::unique_ptr<NetBackend> backend, MacAddress mac);
  ~NetDevice() override { reset(); }

  [[nodiscard]] std::string_view name() const override { return "net"; }
  [[nodiscard]] uint32_t device_id() const override { return kIdNet; }
  [[nodiscard]] uint64_t features() const override;
  [[nodiscard]] uint16_t num_queues() const override { return 3; }
  [[nodiscard]] uint16_t queue_max_size(uint16_t index) const override {
    return index == kCtrlQueue ? kCtrlQueueSize : kQueueSize;
  }
  void read_config(uint64_t offset, std::span<uint8_t> data) override;
  // Legacy drivers without CTRL_MAC_ADDR set the MAC by writing it here, byte by byte.
  void write_config(uint64_t offset, std::span<const uint8_t> data) override;
  // The MAC, link status, receive filter and guest offloads (a frame held for missing buffers is
  // dropped at pause). Restore checks every field and changes nothing on error.
  void save_state(snapshot::Encoder& out) const override;
  [[nodiscard]] Status restore_state(snapshot::Decoder& in) override;

  // After a restore (any thread): when the driver negotiated GUEST_ANNOUNCE, sets
  // VIRTIO_NET_S_ANNOUNCE and raises a configuration change; the driver announces itself
  // (gratuitous ARP, IPv6 neighbour advertisement) and acks through the control queue. False when
  // the driver cannot be asked (inactive, or the feature was not negotiated).
  bool announce();

  [[nodiscard]] NetCounters counters() const;
  [[nodiscard]] MacAddress mac() const;
  [[nodiscard]] uint16_t status() const;
  [[nodiscard]] const NetBackend& backend() const { return *backend_; }
  // The offloads (kOffload* bits) the tap was last configured with, for tests.
  [[nodiscard]] unsigned tap_offloads() const { return tap_offloads_.load(std::memory_order_relaxed); }
  // The receive filter; read it only while the device is paused or inactive.
  [[nodiscard]] const RxFilter& rx_filter() const { return filter_; }

 private:
  // A receive chain popped ahead of the frame that will fill it.
  struct RxBuffer {
    DescriptorChain chain;
    uint16_t avail_pos = 0;  // its entry in the available ring (for unpop)
    std::vector<iovec> iov;  // host views of its writable segments
    uint64_t capacity = 0;
  };
  struct Counters {
    std::atomic<uint64_t> rx_frames{0}, rx_bytes{0}, rx_drops{0}, rx_filtered{0};
    std::atomic<uint64_t> tx_frames{0}, tx_bytes{0}, tx_drops{0};
  };

  [[nodiscard]] Status on_activate() override;
  [[nodiscard]] std::vector<EventLoop::Source> extra_sources() override;
  void on_notify(uint16_t queue) override;
  [[nodiscard]] Status on_pause() override;
  void on_reset() override;

  [[nodiscard]] uint32_t header_bytes() const { return negotiated(kFMrgRxbuf) ? kMrgHeaderBytes : kHeaderBytes; }
  [[nodiscard]] unsigned tap_offloads_for(uint64_t guest_offloads) const;
  [[nodiscard]] Status configure_backend();

  // net_rx.cpp
  void receive();
  // Takes receive buffers until they hold `target` bytes (MRG_RXBUF) or one chain (without).
  void top_up(SplitQueue& q, uint64_t target);
  [[nodiscard]] bool finish_pending(SplitQueue& q);
  // false: the pass must stop (a frame waits for buffers).
  [[nodiscard]] bool deliver(SplitQueue& q, size_t frame_len);
  void complete(SplitQueue& q, size_t frame_len);
  void release_buffers(SplitQueue& q);
  void watch_tap(bool on);
  [[nodiscard]] uint64_t guest_capacity() const;
  void rx_iovecs(std::vector<iovec>& out) const;

  // net_tx.cpp
  void transmit();
  void transmit_chain(const DescriptorChain& chain);

  // net_ctrl.cpp
  void control();
  [[nodiscard]] uint8_t control_command(const DescriptorChain& chain);

  std::unique_ptr<NetBackend> backend_;
  const MacAddress configured_mac_;
  const unsigned tap_supported_;
  UniqueFd tap_poll_;  // an epoll set holding the tap, watched by the device thread
  bool tap_watched_ = false;
  bool rx_stopped_ = false;  // the tap failed: receive is off until reset

  mutable std::mutex config_mu_;  // mac_ and status_: vCPU threads read, the device thread writes
  MacAddress mac_;
  uint16_t status_ = kStatusLinkUp;
  bool announce_ok_ = false;  // under config_mu_: active, with GUEST_ANNOUNCE and CTRL_VQ

  // Device thread (or the transport's while the thread is parked).
  RxFilter filter_;
  uint64_t guest_offloads_ = 0;  // GUEST_* feature bits the guest accepts now
  std::atomic<unsigned> tap_offloads_{0};
  std::deque<RxBuffer> rx_buffers_;
  uint64_t rx_buffer_bytes_ = 0;
  size_t rx_buffer_iovecs_ = 0;
  std::vector<uint8_t> spill_;          // the end of a frame longer than the posted buffers
  std::optional<size_t> pending_len_;   // that frame's length (MRG_RXBUF only)
  uint64_t pending_in_guest_ = 0;       // of which this much is already in the buffers
  std::vector<iovec> iov_scratch_;
  std::vector<UsedElement> used_scratch_;
  bool tx_error_logged_ = false;

  Counters counters_;
};

}  // namespace kiln::virtio::net
