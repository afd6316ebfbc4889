// Bringing up one virtio device for a scenario (blk, rng, console): find it by device ID,
// negotiate, set up its queues, DRIVER_OK, each step a check named <scenario>.<step>. VirtioSetup
// takes a virtio-mmio device; VirtioPciSetup a legacy virtio-PCI function on bus 0 (blk.bench).
#pragma once

#include <cstdint>

#include "probe/lib/virtio_env.h"
#include "probe/scenarios/scenario.h"

namespace kiln::probe {

struct VirtioSetupParams {
  Text scenario;              // check prefix, e.g. "blk"
  uint32_t device_id = 0;
  uint64_t wanted = 0;        // device features to accept if offered (ring features added below)
  bool indirect = true;       // accept VIRTIO_RING_F_INDIRECT_DESC if offered
  bool event_idx = true;      // accept VIRTIO_RING_F_EVENT_IDX if offered
  uint16_t indirect_max = 16;
  uint16_t queue_size = 128;  // at most this many entries per queue (legacy PCI: the device's
                              // size, which the driver cannot shrink, must not exceed it)
  uint16_t queues = 1;        // queues 0 .. queues-1
};

inline constexpr uint16_t kMaxSetupQueues = 2;

// Holds the transport the queues point at: set up in place, never copied.
class VirtioSetup {
 public:
  VirtioSetup() = default;
  VirtioSetup(const VirtioSetup&) = delete;
  VirtioSetup& operator=(const VirtioSetup&) = delete;

  // Checks <scenario>.found, .negotiate, .queue, .driver_ok (a fail line for the first that
  // fails); prints PROBE result <scenario>.features offered= accepted= and queue sizes.
  [[nodiscard]] bool bring_up(const Context& ctx, const VirtioSetupParams& p, driver::Arena& arena);

  // Status 0; checks <scenario>.reset (Status and queue 0's QueuePFN read 0 again).
  void reset(Text check_name);

  [[nodiscard]] Mmio& transport() { return transport_; }
  [[nodiscard]] MmioQueue& queue(uint16_t i) { return queues_[i]; }
  [[nodiscard]] uint64_t offered() const { return offered_; }
  [[nodiscard]] uint64_t accepted() const { return accepted_; }
  [[nodiscard]] const VirtioMmioDevice& where() const { return where_; }

 private:
  VirtioMmioDevice where_;
  Mmio transport_;
  MmioQueue queues_[kMaxSetupQueues];
  uint64_t offered_ = 0;
  uint64_t accepted_ = 0;
};

// The same for the first legacy virtio-PCI function on bus 0 (vendor 0x1af4, device 0x1000..0x103f)
// whose subsystem ID is the device ID (virtio 0.9.5, 2.1), reached through its I/O BAR 0 (I/O
// decode and bus mastering enabled). MSI-X stays off (device configuration at 20) and the probe
// polls with interrupts suppressed, so no interrupt, MSI-X or INTx, is raised.
class VirtioPciSetup {
 public:
  VirtioPciSetup() = default;
  VirtioPciSetup(const VirtioPciSetup&) = delete;
  VirtioPciSetup& operator=(const VirtioPciSetup&) = delete;

  // Checks and lines as VirtioSetup::bring_up; <scenario>.found also fails on a BAR 0 that is
  // not an assigned I/O BAR.
  [[nodiscard]] bool bring_up(const Context& ctx, const VirtioSetupParams& p, driver::Arena& arena);
  void reset(Text check_name);

  [[nodiscard]] PciIo& transport() { return transport_; }
  [[nodiscard]] PciIoQueue& queue(uint16_t i) { return queues_[i]; }
  [[nodiscard]] uint64_t offered() const { return offered_; }
  [[nodiscard]] uint64_t accepted() const { return accepted_; }

 private:
  PciIo transport_;
  PciIoQueue queues_[kMaxSetupQueues];
  uint64_t offered_ = 0;
  uint64_t accepted_ = 0;
};

// wait_used as blk_transfer's waiter.
struct ProbeWait {
  template <class QueueT>
  driver::Poll operator()(QueueT& q, driver::Completion& c) const {
    return wait_used(q, c);
  }
};

}  // namespace kiln::probe
