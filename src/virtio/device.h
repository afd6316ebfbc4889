// A virtio device as its transport sees it (virtio 0.9.5, 2.2): IDs, feature bits, configuration
// space and queues. A device knows nothing of its transport; the transport knows nothing of the
// device's requests. Activation hands the device its queues once the driver sets DRIVER_OK;
// reset takes them back. For snapshots, pause() quiesces an active device and save_state /
// restore_state carry what the device holds beyond the transport's registers and queues.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "memory/guest_memory.h"
#include "snapshot/codec.h"
#include "virtio/guest_errors.h"
#include "virtio/queue/split_queue.h"

namespace kiln::virtio {

// What the transport raises on the device's behalf. Thread-safe; called from device threads.
class Interrupt {
 public:
  virtual ~Interrupt() = default;
  virtual void used_buffer(uint16_t queue) = 0;  // "used ring updated" on `queue` (ISR bit 0)
  virtual void config_changed() = 0;             // "configuration changed" (ISR bit 1)
};

struct ActiveQueue {
  std::optional<SplitQueue> queue;  // empty when the driver did not set this queue up
  int notify_fd = -1;               // eventfd readable after the driver notified the queue
};

struct Activation {
  const GuestMemory* mem = nullptr;
  uint64_t features = 0;  // what the driver acknowledged, a subset of what the device offered
  std::vector<ActiveQueue> queues;  // one per queue index
  Interrupt* interrupt = nullptr;   // outlives the activation
  // Serve nothing until resume() (a device restored into a paused VM).
  bool start_paused = false;
  // The queues continue from a snapshot: no first-activation side effect is repeated (the
  // console's initial size announcement, say).
  bool restored = false;
};

// The queue at `index` of an activation, or nullptr (not set up, or no activation).
inline const SplitQueue* queue_in(const Activation& a, uint16_t index) {
  return index < a.queues.size() && a.queues[index].queue ? &*a.queues[index].queue : nullptr;
}

class VirtioDevice {
 public:
  virtual ~VirtioDevice() = default;

  [[nodiscard]] virtual std::string_view name() const = 0;
  [[nodiscard]] virtual uint32_t device_id() const = 0;
  // Device and ring feature bits offered to the driver.
  [[nodiscard]] virtual uint64_t features() const = 0;
  [[nodiscard]] virtual uint16_t num_queues() const = 0;
  [[nodiscard]] virtual uint16_t queue_max_size(uint16_t index) const = 0;

  // Device-specific configuration space; bytes outside it read as zero (data arrives zeroed) and
  // writes there are ignored. Called on vCPU threads.
  virtual void read_config(uint64_t offset, std::span<uint8_t> data) = 0;
  virtual void write_config(uint64_t offset, std::span<const uint8_t> data) = 0;

  // The driver set DRIVER_OK: start serving the queues (off the vCPU threads). An error leaves the
  // device inactive.
  [[nodiscard]] virtual Status activate(Activation activation) = 0;
  // Status 0 written, or kiln stops: stop serving. When it returns, the device no longer touches
  // guest memory or raises interrupts. Also valid while paused.
  virtual void reset() = 0;

  // Snapshot support; the transport calls these with every vCPU parked, never concurrently with
  // each other or with activate/reset.
  //
  // pause(): stop taking requests from the queues, complete everything in flight and publish it
  // (used ring, interrupt), then neither touch guest memory nor raise interrupts until resume().
  // Notifies arriving meanwhile are not lost (resume() looks at the queues again). Nothing to do
  // while inactive. An error means something in flight could not be completed: the device is
  // paused all the same, and resume() continues it.
  [[nodiscard]] virtual Status pause() = 0;
  // Serve again (also starts a device activated with start_paused); nothing when not paused.
  virtual void resume() = 0;
  // While paused: the queue the device serves at `index` (nullptr when inactive or not set up),
  // for the transport to save its position.
  [[nodiscard]] virtual const SplitQueue* active_queue(uint16_t index) const = 0;
  // Device state outside the transport's registers and queues, saved while paused (or inactive)
  // and restored while inactive, before the transport activates the device again. Restore
  // treats every byte as untrusted and leaves the device unchanged on error.
  virtual void save_state(snapshot::Encoder& out) const = 0;
  [[nodiscard]] virtual Status restore_state(snapshot::Decoder& in) = 0;

  // The guest's mistakes with this device, seen by the device or by its transport: counted (for
  // the metrics) and logged within bounds. The VMM sets its label ("virtio-blk rootfs").
  [[nodiscard]] GuestErrors& guest_errors() const { return guest_errors_; }

 private:
  mutable GuestErrors guest_errors_;
};

// Reads `data.size()` bytes at `offset` of a device's plain-data config structure (little-endian,
// as x86 is); shared by every device's read_config.
inline void read_config_bytes(std::span<const uint8_t> config, uint64_t offset, std::span<uint8_t> data) {
  for (size_t i = 0; i < data.size(); ++i) {
    const uint64_t at = offset + i;
    data[i] = at < config.size() ? config[at] : 0;
  }
}

}  // namespace kiln::virtio
