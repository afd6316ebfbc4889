// The driver side of the legacy virtio-PCI transport (virtio 0.9.5, 2.2.2 "The virtio header"):
// the header at the start of I/O BAR 0, config space right after it: at offset 20, or at 24 after
// the two vector fields once the caller enabled MSI-X in configuration space and said so with
// set_msix(true). Finding the function, its BARs and capabilities is the caller's job (PCI
// configuration space); Regs reaches the BAR.
// Only feature bits 0-31 exist on this transport; the queue size is the device's (read-only)
// and the used ring is aligned to 4096 (2.3).
#pragma once

#include <cstdint>

#include "drivers/virtio/defs.h"
#include "drivers/virtio/registers.h"
#include "drivers/virtio/split_ring.h"

namespace kiln::driver {

template <RegisterAccess Regs>
class LegacyPci {
 public:
  LegacyPci() = default;
  explicit LegacyPci(Regs regs) : regs_(regs) {}

  void reset() { regs_.write8(pci::kStatus8, 0); }
  [[nodiscard]] uint8_t status() { return regs_.read8(pci::kStatus8); }
  void set_status(uint8_t s) { regs_.write8(pci::kStatus8, s); }

  [[nodiscard]] uint64_t host_features() { return regs_.read32(pci::kHostFeatures32); }
  void set_guest_features(uint64_t f) { regs_.write32(pci::kGuestFeatures32, static_cast<uint32_t>(f)); }
  void prepare_queues() {}  // nothing: the page size is fixed at 4096

  [[nodiscard]] uint16_t queue_max(uint16_t index) {
    regs_.write16(pci::kQueueSelect16, index);
    return regs_.read16(pci::kQueueSize16);
  }
  [[nodiscard]] uint32_t queue_pfn(uint16_t index) {
    regs_.write16(pci::kQueueSelect16, index);
    return regs_.read32(pci::kQueueAddress32);
  }

  // 2.3 "Virtqueue Configuration": select, check the address is 0, read the size (0: no queue),
  // allocate a ring of exactly that size, write its PFN. Fails with queue_too_large if the
  // device's size exceeds `max_entries` (legacy PCI cannot shrink a queue).
  [[nodiscard]] Outcome<SplitRing> setup_queue(Arena& arena, uint16_t index, uint16_t max_entries,
                                               const RingOptions& opts) {
    regs_.write16(pci::kQueueSelect16, index);
    if (regs_.read32(pci::kQueueAddress32) != 0) return Error::queue_in_use;
    const uint16_t n = regs_.read16(pci::kQueueSize16);
    if (n == 0) return Error::queue_unavailable;
    if (n > max_entries) return Error::queue_too_large;
    if (!is_power_of_two(n)) return Error::bad_argument;
    auto ring = SplitRing::create(arena, n, pci::kQueueAlign, opts);
    if (!ring) return ring.error();
    const uint64_t pfn = ring->layout().desc >> pci::kPageShift;
    if (pfn > 0xffffffffu) return Error::not_addressable;
    regs_.write32(pci::kQueueAddress32, static_cast<uint32_t>(pfn));
    return ring;
  }
  void release_queue(uint16_t index) {
    regs_.write16(pci::kQueueSelect16, index);
    regs_.write32(pci::kQueueAddress32, 0);
  }

  void notify(uint16_t index) { regs_.write16(pci::kQueueNotify16, index); }
  // Reading the ISR clears it (2.2.2): there is nothing to acknowledge separately.
  [[nodiscard]] uint32_t interrupt_status() { return regs_.read8(pci::kIsr8); }
  void ack_interrupt(uint32_t) {}

  // MSI-X state of the function (the caller changed Message Control): where config space is.
  void set_msix(bool enabled) { config_ = enabled ? pci::kConfigMsix : pci::kConfigNoMsix; }
  // Vector assignment (MSI-X enabled): returns what the device accepted (kNoVector: refused).
  [[nodiscard]] uint16_t set_config_vector(uint16_t vector) {
    regs_.write16(pci::kConfigVector16, vector);
    return regs_.read16(pci::kConfigVector16);
  }
  [[nodiscard]] uint16_t set_queue_vector(uint16_t index, uint16_t vector) {
    regs_.write16(pci::kQueueSelect16, index);
    regs_.write16(pci::kQueueVector16, vector);
    return regs_.read16(pci::kQueueVector16);
  }

  [[nodiscard]] uint8_t config8(uint32_t off) { return regs_.read8(config_ + off); }
  [[nodiscard]] uint16_t config16(uint32_t off) { return regs_.read16(config_ + off); }
  [[nodiscard]] uint32_t config32(uint32_t off) { return regs_.read32(config_ + off); }
  [[nodiscard]] uint64_t config64(uint32_t off) { return config32(off) | (uint64_t{config32(off + 4)} << 32); }
  void config_write8(uint32_t off, uint8_t v) { regs_.write8(config_ + off, v); }

  [[nodiscard]] Regs& regs() { return regs_; }

 private:
  Regs regs_{};
  uint32_t config_ = pci::kConfigNoMsix;
};

}  // namespace kiln::driver
