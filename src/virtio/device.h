// A virtio device as its transport sees it (virtio 0.9.5, 2.2): IDs, feature bits, configuration
// space and queues. A device knows nothing of its transport; the transport knows nothing of the
// device's requests. Activation hands the device its queues once the driver sets DRIVER_OK;
// reset takes them back.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "memory/guest_memory.h"
#include "virtio/queue/split_queue.h"

namespace kiln::virtio {

// What the transport raises on the device's behalf. Thread-safe; called from device threads.
class Interrupt {
 public:
  virtual ~Interrupt() = default;
  virtual void used_buffer() = 0;     // "used ring updated" (ISR bit 0)
  virtual void config_changed() = 0;  // "configuration changed" (ISR bit 1)
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
};

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
  // guest memory or raises interrupts.
  virtual void reset() = 0;
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
