// PCI configuration mechanism #1 (PCI Local Bus spec 3.0, 3.2.2.3.2) with no devices behind it:
// CONFIG_ADDRESS at 0xcf8 (32-bit accesses only) latches and reads back; CONFIG_DATA at 0xcfc..0xcff
// reads all ones ("no device") at any width and ignores writes. Linux's pci_check_type1 sees a working
// mechanism, then its sanity check finds no host bridge and gives up quietly.
//
// Narrow accesses to 0xcf8..0xcfb do not reach CONFIG_ADDRESS (as on Intel chipsets): they read 0xff,
// except a byte write to 0xcf9, the reset control register, which calls `reset` when it sets bit 2
// (Linux reboot=pci writes 0x06 there).
//
// Thread safety: the latch is an atomic; no lock.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <span>

#include "devices/bus.h"

namespace kiln {

class PciAbsent : public BusDevice {
 public:
  static constexpr uint64_t kBase = 0xcf8;
  static constexpr uint64_t kLength = 8;

  explicit PciAbsent(std::function<void()> reset = {}) : reset_(std::move(reset)) {}

  void read(uint64_t offset, std::span<uint8_t> data) override;
  void write(uint64_t offset, std::span<const uint8_t> data) override;

 private:
  const std::function<void()> reset_;
  std::atomic<uint32_t> address_{0};
};

}  // namespace kiln
