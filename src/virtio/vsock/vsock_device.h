// virtio-vsock (device ID 19, virtio 1.1 section 5.10) with Firecracker's host side: streams to
// and from the guest are bridged to unix sockets by the Muxer (muxer.h). Three queues: rx (packets
// for the guest), tx (packets from it), event (TRANSPORT_RESET after a restore); the guest CID
// in configuration space. Everything runs on the device thread: the queues' notifies and one
// epoll fd over every host socket.
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <string>

#include "virtio/queue_device.h"
#include "virtio/spec.h"
#include "virtio/vsock/muxer.h"
#include "virtio/vsock/vsock_spec.h"

namespace kiln::virtio::vsock {

class VsockDevice final : public QueueDevice {
 public:
  static constexpr uint16_t kQueueSize = 256;
  // Chains served per queue per wake-up of the device thread (then kick()).
  static constexpr unsigned kBatch = 256;

  // Binds the host socket at options.uds_path; refuses a CID outside [3, 2^32 - 2].
  [[nodiscard]] static Result<std::shared_ptr<VsockDevice>> create(MuxerOptions options);
  ~VsockDevice() override { reset(); }

  [[nodiscard]] std::string_view name() const override { return "vsock"; }
  [[nodiscard]] uint32_t device_id() const override { return kDeviceId; }
  [[nodiscard]] uint64_t features() const override { return feature(kFRingIndirectDesc); }
  [[nodiscard]] uint16_t num_queues() const override { return kNumQueues; }
  [[nodiscard]] uint16_t queue_max_size(uint16_t) const override { return kQueueSize; }
  void read_config(uint64_t offset, std::span<uint8_t> data) override;
  void write_config(uint64_t, std::span<const uint8_t>) override {}  // read-only (5.10.4)
  // The record holds the CID. Connections are not carried: a restored device tells the guest
  // VIRTIO_VSOCK_EVENT_TRANSPORT_RESET (5.10.6.6), and the guest drops its old streams.
  void save_state(snapshot::Encoder& out) const override;
  [[nodiscard]] Status restore_state(snapshot::Decoder& in) override;

  [[nodiscard]] uint64_t guest_cid() const { return muxer_->options().guest_cid; }
  [[nodiscard]] const std::string& uds_path() const { return muxer_->options().uds_path; }
  // Updated by the device thread after each wake-up (for tests and metrics).
  [[nodiscard]] size_t connections() const { return connections_.load(std::memory_order_acquire); }
  [[nodiscard]] size_t buffered_bytes() const { return buffered_.load(std::memory_order_acquire); }
  [[nodiscard]] bool reset_event_pending() const { return reset_event_pending_.load(std::memory_order_acquire); }

 private:
  explicit VsockDevice(std::unique_ptr<Muxer> muxer) : QueueDevice("kiln-vsock"), muxer_(std::move(muxer)) {}

  [[nodiscard]] std::vector<EventLoop::Source> extra_sources() override;
  void on_notify(uint16_t queue) override;
  // Returns the rx buffer held back for later (with length 0: Linux drops it and posts another).
  [[nodiscard]] Status on_pause() override;
  // The driver reset the device: every host socket is closed.
  void on_reset() override;

  void serve_rx();
  void serve_tx();
  void serve_event();
  void handle_tx_chain(const DescriptorChain& chain);
  void publish_stats();

  std::unique_ptr<Muxer> muxer_;
  std::optional<DescriptorChain> held_rx_;  // popped, nothing to put in it yet
  bool tx_waiting_ = false;                 // tx stopped because RSTs wait for rx buffers
  std::atomic<bool> reset_event_pending_{false};
  std::atomic<size_t> connections_{0};
  std::atomic<size_t> buffered_{0};
};

}  // namespace kiln::virtio::vsock
