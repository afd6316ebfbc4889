// PCI configuration mechanism #1 (PCI Local Bus spec 3.0, 3.2.2.3.2): CONFIG_ADDRESS at 0xcf8
// (32-bit accesses only) latches and reads back; CONFIG_DATA at 0xcfc..0xcff reaches the
// configuration register CONFIG_ADDRESS names, at any width, when its enable bit (31) is set.
// Without a target (no PCI bus: kiln's virtio-mmio machine) CONFIG_DATA reads all ones ("no
// device") and ignores writes; Linux's pci_check_type1 sees a working mechanism, then its sanity
// check finds no host bridge and gives up quietly.
//
// Narrow accesses to 0xcf8..0xcfb do not reach CONFIG_ADDRESS (as on Intel chipsets): they read 0xff,
// except a byte write to 0xcf9, the reset control register, which calls `reset` when it sets bit 2
// (Linux reboot=pci writes 0x06 there).
//
// Thread safety: the latch is an atomic; the target serialises its own accesses. Two vCPUs
// interleaving address and data accesses race as on hardware (guests serialise them).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>

#include "devices/bus.h"

namespace kiln::pci {

// What is behind CONFIG_DATA: `offset` is the byte offset into the function's configuration space.
class ConfigTarget {
 public:
  virtual ~ConfigTarget() = default;
  virtual void config_read(uint32_t bus, uint32_t device, uint32_t function, uint32_t offset,
                           std::span<uint8_t> data) = 0;
  virtual void config_write(uint32_t bus, uint32_t device, uint32_t function, uint32_t offset,
                            std::span<const uint8_t> data) = 0;
};

class ConfigIo : public BusDevice {
 public:
  static constexpr uint64_t kBase = 0xcf8;
  static constexpr uint64_t kLength = 8;

  explicit ConfigIo(std::function<void()> reset = {}, std::shared_ptr<ConfigTarget> target = nullptr)
      : reset_(std::move(reset)), target_(std::move(target)) {}

  void read(uint64_t offset, std::span<uint8_t> data) override;
  void write(uint64_t offset, std::span<const uint8_t> data) override;

 private:
  // The target and config offset an access at CONFIG_DATA + `offset` reaches, or nullptr.
  [[nodiscard]] ConfigTarget* decode(uint64_t offset, size_t size, uint32_t& address) const;

  const std::function<void()> reset_;
  const std::shared_ptr<ConfigTarget> target_;
  std::atomic<uint32_t> address_{0};
};

}  // namespace kiln::pci
