// The driver side of the legacy virtio-mmio transport (virtio 0.9.5, Appendix X), over any
// RegisterAccess. Register accesses are 32-bit except the device config space (0x100+), which
// is byte-accessible; wider config fields are read as one access of their width.
#pragma once

#include <cstdint>

#include "drivers/virtio/defs.h"
#include "drivers/virtio/registers.h"
#include "drivers/virtio/split_ring.h"

namespace kiln::driver {

struct MmioIdentity {
  uint32_t magic = 0;
  uint32_t version = 0;
  uint32_t device_id = 0;
  uint32_t vendor_id = 0;
};

template <RegisterAccess Regs>
class LegacyMmio {
 public:
  static constexpr uint32_t kPageSize = SplitRing::kPageSize;

  LegacyMmio() = default;
  explicit LegacyMmio(Regs regs) : regs_(regs) {}

  // Reads MagicValue, Version, DeviceID and VendorID; fails on a bad magic, a version other
  // than 1 (legacy) or device ID 0 (an empty slot), filling `id` either way.
  [[nodiscard]] Error identify(MmioIdentity& id) {
    id.magic = regs_.read32(mmio::kMagicValue);
    id.version = regs_.read32(mmio::kVersion);
    id.device_id = regs_.read32(mmio::kDeviceId);
    id.vendor_id = regs_.read32(mmio::kVendorId);
    if (id.magic != mmio::kMagic) return Error::bad_magic;
    if (id.version != mmio::kLegacyVersion) return Error::bad_version;
    if (id.device_id == 0) return Error::no_device;
    return Error::none;
  }
  [[nodiscard]] uint32_t device_id() { return regs_.read32(mmio::kDeviceId); }

  // 2.2.1: writing 0 resets the device.
  void reset() { regs_.write32(mmio::kStatus, 0); }
  [[nodiscard]] uint8_t status() { return static_cast<uint8_t>(regs_.read32(mmio::kStatus)); }
  void set_status(uint8_t s) { regs_.write32(mmio::kStatus, s); }

  // HostFeatures windows 0 and 1 (bits 0-31, 32-63).
  [[nodiscard]] uint32_t host_features_window(uint32_t sel) {
    regs_.write32(mmio::kHostFeaturesSel, sel);
    return regs_.read32(mmio::kHostFeatures);
  }
  [[nodiscard]] uint64_t host_features() {
    const uint64_t lo = host_features_window(0);
    return lo | (uint64_t{host_features_window(1)} << 32);
  }
  void set_guest_features(uint64_t f) {
    regs_.write32(mmio::kGuestFeaturesSel, 0);
    regs_.write32(mmio::kGuestFeatures, static_cast<uint32_t>(f));
    regs_.write32(mmio::kGuestFeaturesSel, 1);
    regs_.write32(mmio::kGuestFeatures, static_cast<uint32_t>(f >> 32));
  }
  // Appendix X: GuestPageSize before any queue is set up (called by negotiate()).
  void prepare_queues() { regs_.write32(mmio::kGuestPageSize, kPageSize); }

  [[nodiscard]] uint32_t queue_max(uint16_t index) {
    regs_.write32(mmio::kQueueSel, index);
    return regs_.read32(mmio::kQueueNumMax);
  }
  [[nodiscard]] uint32_t queue_pfn(uint16_t index) {
    regs_.write32(mmio::kQueueSel, index);
    return regs_.read32(mmio::kQueuePfn);
  }

  // Appendix X "Virtqueue Configuration": select, check QueuePFN is 0, read QueueNumMax, allocate
  // a ring of min(QueueNumMax, max_entries) entries (rounded down to a power of two), then
  // QueueNum, QueueAlign, QueuePFN.
  [[nodiscard]] Outcome<SplitRing> setup_queue(Arena& arena, uint16_t index, uint16_t max_entries,
                                               const RingOptions& opts) {
    regs_.write32(mmio::kQueueSel, index);
    if (regs_.read32(mmio::kQueuePfn) != 0) return Error::queue_in_use;
    const uint32_t device_max = regs_.read32(mmio::kQueueNumMax);
    if (device_max == 0) return Error::queue_unavailable;
    uint32_t n = device_max < max_entries ? device_max : max_entries;
    if (n > kMaxQueueSize) n = kMaxQueueSize;
    while (n != 0 && !is_power_of_two(n)) n &= n - 1;  // keep the highest bit
    if (n == 0) return Error::bad_argument;
    auto ring = SplitRing::create(arena, static_cast<uint16_t>(n), kPageSize, opts);
    if (!ring) return ring.error();
    const uint64_t pfn = ring->layout().desc / kPageSize;
    if (pfn > 0xffffffffu) return Error::not_addressable;
    regs_.write32(mmio::kQueueNum, n);
    regs_.write32(mmio::kQueueAlign, kPageSize);
    regs_.write32(mmio::kQueuePfn, static_cast<uint32_t>(pfn));
    return ring;
  }
  // "When the Guest stops using the queue it must write zero (0x0) to this register."
  void release_queue(uint16_t index) {
    regs_.write32(mmio::kQueueSel, index);
    regs_.write32(mmio::kQueuePfn, 0);
  }

  void notify(uint16_t index) { regs_.write32(mmio::kQueueNotify, index); }
  [[nodiscard]] uint32_t interrupt_status() { return regs_.read32(mmio::kInterruptStatus); }
  void ack_interrupt(uint32_t bits) { regs_.write32(mmio::kInterruptAck, bits); }

  // Device config space at 0x100 (byte-accessible, Appendix X).
  [[nodiscard]] uint8_t config8(uint32_t off) { return regs_.read8(mmio::kConfig + off); }
  [[nodiscard]] uint16_t config16(uint32_t off) { return regs_.read16(mmio::kConfig + off); }
  [[nodiscard]] uint32_t config32(uint32_t off) { return regs_.read32(mmio::kConfig + off); }
  [[nodiscard]] uint64_t config64(uint32_t off) {
    return config32(off) | (uint64_t{config32(off + 4)} << 32);
  }
  void config_write8(uint32_t off, uint8_t v) { regs_.write8(mmio::kConfig + off, v); }

  [[nodiscard]] Regs& regs() { return regs_; }

 private:
  Regs regs_{};
};

}  // namespace kiln::driver
