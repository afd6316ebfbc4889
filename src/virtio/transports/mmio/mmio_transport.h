// The legacy virtio-mmio transport (virtio 0.9.5, Appendix X): one 4 KiB register window per
// device on the MMIO bus, one edge-triggered interrupt line. vCPU threads access the registers;
// device threads raise interrupts through the atomic InterruptStatus. For snapshots the transport
// pauses its device and saves the registers, the queues' positions and the device's own state.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <vector>

#include "common/event_fd.h"
#include "devices/bus.h"
#include "devices/irq.h"
#include "memory/guest_memory.h"
#include "snapshot/codec.h"
#include "virtio/device.h"

namespace kiln::virtio {

class MmioTransport final : public BusDevice, public Interrupt {
 public:
  [[nodiscard]] static Result<std::shared_ptr<MmioTransport>> create(const GuestMemory& mem,
                                                                     std::shared_ptr<VirtioDevice> device,
                                                                     std::shared_ptr<IrqTrigger> irq);
  ~MmioTransport() override;

  // BusDevice (Appendix X registers).
  void read(uint64_t offset, std::span<uint8_t> data) override;
  void write(uint64_t offset, std::span<const uint8_t> data) override;

  // Interrupt.
  void used_buffer() override;
  void config_changed() override;

  // One eventfd per queue, signalled on a QueueNotify write with that queue's index; the VMM also
  // hands them to KVM as ioeventfds (datamatch = index) so notifies skip user space entirely.
  [[nodiscard]] const std::vector<EventFd>& notify_events() const { return notify_; }
  [[nodiscard]] VirtioDevice& device() const { return *device_; }
  // Stops the device (kiln shutting down).
  void shutdown();
  // Status 0, as if the driver wrote it (a failed restore leaves the transport this way).
  void reset();

  // Snapshot support, with every vCPU parked (no register access meanwhile).
  // pause(): the device completes what is in flight and goes quiet (VirtioDevice::pause); a
  // transport that is already paused stays so. An error names the device; it is paused anyway.
  [[nodiscard]] Status pause();
  // The device serves again; also starts a transport restored by restore_state().
  void resume();
  // Registers, queue positions and device state; only while paused.
  [[nodiscard]] Status save_state(snapshot::Encoder& out);
  // Into a transport over guest memory restored from the same snapshot, with the same kind of
  // device: every field is checked as untrusted input. With DRIVER_OK in the saved status the
  // device is activated on the restored queues, paused (resume() starts it). On error the
  // transport is reset, never half-active.
  [[nodiscard]] Status restore_state(snapshot::Decoder& in);

 private:
  struct QueueRegs {
    uint32_t num = 0;
    uint32_t align = 4096;  // Linux writes it; QEMU's default too
    uint32_t pfn = 0;
  };
  MmioTransport(const GuestMemory& mem, std::shared_ptr<VirtioDevice> device, std::shared_ptr<IrqTrigger> irq,
                std::vector<EventFd> notify);
  [[nodiscard]] uint32_t read_register(uint64_t offset);
  void write_register(uint64_t offset, uint32_t value);
  void set_status(uint32_t value);
  void activate();
  void reset_locked();
  [[nodiscard]] Status restore_locked(snapshot::Decoder& in);
  [[nodiscard]] bool active() const { return (status_ & kStatusDriverOkBit) != 0; }

  static constexpr uint32_t kStatusDriverOkBit = 4;

  const GuestMemory& mem_;
  std::shared_ptr<VirtioDevice> device_;
  std::shared_ptr<IrqTrigger> irq_;
  std::vector<EventFd> notify_;

  std::mutex mu_;  // the registers below; held across device activate/reset
  uint32_t host_features_sel_ = 0;
  uint32_t guest_features_sel_ = 0;
  uint64_t acked_features_ = 0;
  uint32_t page_size_ = 4096;  // written by the driver before queue setup
  uint32_t queue_sel_ = 0;
  std::vector<QueueRegs> queues_;
  uint32_t status_ = 0;
  bool activated_ = false;
  bool paused_ = false;  // between pause() (or restore_state()) and resume()
  std::atomic<uint32_t> interrupt_status_{0};
};

}  // namespace kiln::virtio
