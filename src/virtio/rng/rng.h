// virtio-rng (device ID 4, virtio 0.9.5 Appendix "Entropy Device"): one request queue; each
// writable buffer the driver posts is filled from getrandom(2).
#pragma once

#include <vector>

#include "virtio/queue_device.h"
#include "virtio/spec.h"

namespace kiln::virtio {

class Rng final : public QueueDevice {
 public:
  static constexpr uint16_t kQueueSize = 256;
  // Most bytes handed out per request (Linux asks for at most 64 at a time; a bigger buffer just
  // gets this much).
  static constexpr uint32_t kMaxRequestBytes = 64 * 1024;
  // Chains served per wake-up of the device thread.
  static constexpr unsigned kBatch = 256;

  Rng() : QueueDevice("kiln-rng") {}
  ~Rng() override { reset(); }
  [[nodiscard]] std::string_view name() const override { return "rng"; }
  [[nodiscard]] uint32_t device_id() const override { return kIdRng; }
  [[nodiscard]] uint64_t features() const override;
  [[nodiscard]] uint16_t num_queues() const override { return 1; }
  [[nodiscard]] uint16_t queue_max_size(uint16_t) const override { return kQueueSize; }
  void read_config(uint64_t, std::span<uint8_t>) override {}  // no configuration space
  void write_config(uint64_t, std::span<const uint8_t>) override {}
  // Nothing beyond the queue: an empty record.
  void save_state(snapshot::Encoder&) const override {}
  [[nodiscard]] Status restore_state(snapshot::Decoder&) override { return {}; }

 private:
  // Every chain a pass pops is returned before it ends: between passes nothing is in flight, so
  // pausing needs nothing beyond the parked thread.
  void on_notify(uint16_t queue) override;

  std::vector<uint8_t> bytes_;
};

}  // namespace kiln::virtio
