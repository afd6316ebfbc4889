// What the two legacy virtio transports share (virtio 0.9.5, 2.2.2 "The virtio header" for PCI,
// Appendix X for MMIO): the feature windows, the queue registers, Status with device activation
// and reset, the interrupt status, queue notifies as eventfds, and snapshot state. A transport
// (MmioTransport, PciLegacyTransport) derives from it and only decodes its own register layout.
//
// vCPU threads call the register methods (each takes the lock); device threads raise interrupts
// through the atomic interrupt status. For snapshots the transport pauses its device and saves
// the registers, the queues' positions and the device's own state.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/event_fd.h"
#include "devices/irq.h"
#include "memory/guest_memory.h"
#include "snapshot/codec.h"
#include "virtio/device.h"
#include "virtio/spec.h"

namespace kiln::virtio {

class LegacyTransport : public Interrupt {
 public:
  LegacyTransport(const LegacyTransport&) = delete;
  LegacyTransport& operator=(const LegacyTransport&) = delete;
  ~LegacyTransport() override;

  // Interrupt: sets the interrupt status bit and triggers the line (while line_enabled()).
  void used_buffer(uint16_t queue) override;
  void config_changed() override;

  // One eventfd per queue, signalled on a notify naming that queue; the VMM also hands them to
  // KVM as ioeventfds (datamatch = index) so notifies skip user space entirely.
  [[nodiscard]] const std::vector<EventFd>& notify_events() const { return notify_; }
  [[nodiscard]] VirtioDevice& device() const { return *device_; }
  // Stops the device (kiln shutting down).
  void shutdown();
  // Status 0, as if the driver wrote it (a failed restore leaves the transport this way).
  void reset();
  // A level-triggered line was lowered at the guest's EOI (KVM irqfd resampling): raise it again
  // while the interrupt status still has a bit set.
  void reassert_if_pending();

  // A host-side change to the device while the VM runs (PATCH /drives; later a tap or a share):
  // `change` runs under the register lock, so no guest register access (a reset, DRIVER_OK, a
  // config read) overlaps it, and with the device paused (nothing in flight, its thread parked)
  // unless it is inactive or the VM is paused. It returns whether the configuration space
  // changed: a driver running the device then gets a configuration change interrupt (after
  // resume() when paused). Errors are change's own, or the device failing to pause.
  [[nodiscard]] Status change_device(const std::function<Result<bool>()>& change);

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

 protected:
  // `transport` names the transport in log lines ("virtio-mmio").
  LegacyTransport(const GuestMemory& mem, std::shared_ptr<VirtioDevice> device, std::shared_ptr<IrqTrigger> irq,
                  std::vector<EventFd> notify, std::string transport);
  // The notify eventfds for `device`, one per queue (what the constructor takes).
  [[nodiscard]] static Result<std::vector<EventFd>> make_notify_events(const VirtioDevice& device);

  // The registers both layouts have, in the spec's words. Selectors take any value; reads and
  // writes through a selector naming nothing read 0 and are ignored (logged).
  [[nodiscard]] uint32_t device_features();  // the window host_features_sel picks (0: bits 0-31)
  void select_device_features(uint32_t window);
  [[nodiscard]] uint32_t driver_features();  // the window guest_features_sel picks
  void select_driver_features(uint32_t window);
  void set_driver_features(uint32_t value);  // ignored while the device runs
  void set_page_size(uint32_t value);
  void select_queue(uint32_t index);
  [[nodiscard]] uint32_t selected_queue();
  [[nodiscard]] uint32_t queue_max();  // 0: no such queue
  [[nodiscard]] uint32_t queue_pfn();
  void set_queue_num(uint32_t value);
  void set_queue_align(uint32_t value);
  void set_queue_pfn(uint32_t value);  // 0: the queue is not used
  void notify(uint32_t index);
  [[nodiscard]] uint32_t status();
  void set_status(uint32_t value);  // 0 resets the device; DRIVER_OK activates it
  [[nodiscard]] uint32_t interrupt_status() const;
  void ack_interrupt(uint32_t bits);
  [[nodiscard]] uint32_t take_interrupt_status();  // read-to-clear (the PCI ISR)
  void read_config(uint64_t offset, std::span<uint8_t> data);
  void write_config(uint64_t offset, std::span<const uint8_t> data);
  // A guest mistake worth a log line (the first few of them, process-wide).
  void guest_error(const std::string& what) const;
  [[nodiscard]] uint16_t num_queues() const { return static_cast<uint16_t>(notify_.size()); }

  // What a transport adds (PCI: INTx Disable and MSI-X, the vector registers).
  // Whether the interrupt line may be raised now.
  [[nodiscard]] virtual bool line_enabled() const { return true; }
  // Status 0 (or a failed restore) reset the registers; called with the register lock held.
  virtual void reset_transport_locked() {}
  // The transport's own registers after the common record in a snapshot (lock held).
  virtual void save_transport_locked(snapshot::Encoder&) {}
  [[nodiscard]] virtual Status restore_transport_locked(snapshot::Decoder&) { return {}; }

 private:
  struct QueueRegs {
    uint32_t num = 0;
    uint32_t align = 4096;  // Linux writes it on MMIO; fixed at 4096 on PCI (2.3)
    uint32_t pfn = 0;
  };
  [[nodiscard]] QueueRegs* selected_locked();  // nullptr: no such queue, logged
  void set_queue_reg(uint32_t QueueRegs::*field, uint32_t value, const char* name);
  // The queue `q` describes over guest RAM: its size within the device's maximum, its rings
  // inside RAM (activation and restore make the same checks).
  [[nodiscard]] Result<SplitQueue> build_queue(uint16_t index, const QueueRegs& q, uint32_t page_size,
                                               uint64_t features) const;
  [[nodiscard]] Activation activation_locked(std::vector<ActiveQueue> queues);
  void activate_locked();
  void reset_locked();
  [[nodiscard]] Status restore_locked(snapshot::Decoder& in);
  [[nodiscard]] bool driver_ok() const { return (status_ & kStatusDriverOk) != 0; }

  const GuestMemory& mem_;
  std::shared_ptr<VirtioDevice> device_;
  std::shared_ptr<IrqTrigger> irq_;
  std::vector<EventFd> notify_;
  const std::string transport_;

  std::mutex mu_;  // the registers below; held across device activate/reset
  uint32_t host_features_sel_ = 0;
  uint32_t guest_features_sel_ = 0;
  uint64_t acked_features_ = 0;
  uint32_t page_size_ = 4096;  // written by an MMIO driver before queue setup
  uint32_t queue_sel_ = 0;
  std::vector<QueueRegs> queues_;
  uint32_t status_ = 0;
  bool activated_ = false;
  bool paused_ = false;  // between pause() (or restore_state()) and resume()
  bool config_change_pending_ = false;  // change_device() while paused: resume() announces it
  std::atomic<uint32_t> interrupt_status_{0};
};

}  // namespace kiln::virtio
