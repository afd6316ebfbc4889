// PCI bus 0 as kiln builds it (no firmware, like Firecracker and cloud-hypervisor): a host bridge
// at 00:00.0 and one single-function device per slot after it. kiln places every BAR itself, I/O
// BARs in an I/O port window and memory BARs in an MMIO window, and the guest reads them back;
// a guest may move or disable them through configuration space. Accesses inside the windows
// reach the BAR that decodes them now (all ones / ignored where none does).
//
// Thread safety: one reader-writer lock; configuration writes exclusive, everything else shared.
// Devices serialise their own state.
#pragma once

#include <array>
#include <functional>
#include <memory>
#include <optional>
#include <shared_mutex>

#include "devices/bus.h"
#include "pci/config_io.h"
#include "pci/config_space.h"
#include "snapshot/codec.h"

namespace kiln::pci {

class PciDevice {
 public:
  virtual ~PciDevice() = default;
  [[nodiscard]] virtual ConfigSpace& config() = 0;
  // An access inside BAR `bar` (the bus checked that all of it lies within the BAR).
  virtual void bar_read(int bar, uint64_t offset, std::span<uint8_t> data) = 0;
  virtual void bar_write(int bar, uint64_t offset, std::span<const uint8_t> data) = 0;
  // Configuration accesses, with the bus lock held (exclusive for writes). A function with state
  // behind its configuration registers (MSI-X control, INTx Disable, Interrupt Status) overrides
  // them; config() alone is enough for the rest.
  virtual void config_read(uint32_t offset, std::span<uint8_t> data) { config().read(offset, data); }
  virtual void config_write(uint32_t offset, std::span<const uint8_t> data) { config().write(offset, data); }
  // The configuration space was restored from a snapshot (bus lock held): pick up its registers.
  virtual void config_restored() {}
};

struct Window {
  uint64_t base = 0;
  uint64_t size = 0;
};

// Told, with the bus lock held, that BAR `bar` moved from `old` to `now` (nullopt: not decoded).
using DecodeListener = std::function<void(int bar, std::optional<uint64_t> old, std::optional<uint64_t> now)>;

class PciBus final : public ConfigTarget {
 public:
  static constexpr uint32_t kSlots = 32;
  static constexpr uint16_t kHostBridgeVendor = 0x8086;  // Intel, as Linux's sanity check likes
  static constexpr uint16_t kHostBridgeDevice = 0x0d57;  // cloud-hypervisor's and Firecracker's choice

  PciBus(Window io, Window mem);

  // Puts `device` in the next free slot and places its BARs; returns the slot. Errors: no slot
  // left, or a window too small (kiln's configuration).
  [[nodiscard]] Result<uint32_t> add(std::shared_ptr<PciDevice> device, DecodeListener on_decode = {});

  // ConfigTarget: functions other than 0, buses other than 0 and empty slots read all ones.
  void config_read(uint32_t bus, uint32_t device, uint32_t function, uint32_t offset, std::span<uint8_t> data) override;
  void config_write(uint32_t bus, uint32_t device, uint32_t function, uint32_t offset,
                    std::span<const uint8_t> data) override;

  // An access at an absolute I/O port or memory address; false when no BAR decodes all of it.
  bool read(BarKind space, uint64_t address, std::span<uint8_t> data);
  bool write(BarKind space, uint64_t address, std::span<const uint8_t> data);

  // Snapshot support (pci_state.cpp): every function's configuration space. Restore goes into a
  // bus built from the same configuration (same functions in the same slots); every byte is
  // checked, read-only bits must match, and listeners hear of BARs that now decode. On error the
  // bus is unchanged.
  void save_state(snapshot::Encoder& out) const;
  [[nodiscard]] Status restore_state(snapshot::Decoder& in);

  // A bus device covering `bus`'s window of `space`, for kiln's port or MMIO bus.
  [[nodiscard]] static std::shared_ptr<BusDevice> window_device(std::shared_ptr<PciBus> bus, BarKind space);
  [[nodiscard]] const Window& window(BarKind space) const { return space == BarKind::kIo ? io_ : mem_; }

 private:
  struct Slot {
    std::shared_ptr<PciDevice> device;
    DecodeListener on_decode;
  };
  // The slot and BAR decoding [address, address + size), or nullptr.
  [[nodiscard]] PciDevice* route(BarKind space, uint64_t address, size_t size, int& bar, uint64_t& offset) const;
  // Runs change(config) on `slot`'s configuration space, then tells its listener what moved.
  void change_config_locked(Slot& slot, const std::function<void(ConfigSpace&)>& change);
  // Calls access(device, bar, offset) for the BAR decoding the access, under the shared lock.
  template <class Access>
  bool with_bar(BarKind space, uint64_t address, size_t size, Access access);

  const Window io_;
  const Window mem_;
  uint64_t next_io_;
  uint64_t next_mem_;
  mutable std::shared_mutex mu_;
  std::array<Slot, kSlots> slots_;
};

}  // namespace kiln::pci
