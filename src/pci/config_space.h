// The configuration space of one PCI function with a type 0 header (PCI Local Bus Specification
// 3.0, 6.1-6.2): 256 bytes and a mask of the bits software may write. Everything else is read-only:
// the IDs, class code, header type and interrupt pin kiln set; Status (kiln sets none of its bits,
// so its write-1-to-clear bits have nothing to clear). Writable: Command's I/O, memory, bus master
// and interrupt disable bits, Interrupt Line, and the address bits of each BAR.
//
// BARs (6.2.5.1): kiln gives each a power-of-two size and places it (no firmware). The sizing
// protocol falls out of the mask: writing all ones reads back ~(size - 1) plus the type bits. I/O
// BARs decode 16 bits (the upper half is hardwired to 0, as the spec allows).
//
// Not thread-safe: the PCI bus serialises config accesses.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>

#include "common/result.h"

namespace kiln::pci {

// Type 0 header offsets.
inline constexpr uint32_t kVendorId = 0x00;
inline constexpr uint32_t kDeviceId = 0x02;
inline constexpr uint32_t kCommand = 0x04;
inline constexpr uint32_t kStatus = 0x06;
inline constexpr uint32_t kRevisionId = 0x08;
inline constexpr uint32_t kClassCode = 0x09;  // 3 bytes: programming interface, subclass, base class
inline constexpr uint32_t kHeaderType = 0x0e;
inline constexpr uint32_t kBar0 = 0x10;
inline constexpr uint32_t kSubsystemVendorId = 0x2c;
inline constexpr uint32_t kSubsystemId = 0x2e;
inline constexpr uint32_t kCapabilitiesPointer = 0x34;
inline constexpr uint32_t kInterruptLine = 0x3c;
inline constexpr uint32_t kInterruptPin = 0x3d;
inline constexpr uint32_t kConfigSize = 256;
inline constexpr int kNumBars = 6;

// Command register bits (6.2.2).
inline constexpr uint16_t kCommandIo = 1 << 0;
inline constexpr uint16_t kCommandMemory = 1 << 1;
inline constexpr uint16_t kCommandBusMaster = 1 << 2;
inline constexpr uint16_t kCommandIntxDisable = 1 << 10;

// Status register bits (6.2.3).
inline constexpr uint16_t kStatusInterrupt = 1 << 3;  // INTx asserted (the device fills it in)
inline constexpr uint16_t kStatusCapabilitiesList = 1 << 4;

// Capabilities (6.7) go from here up, each 4-byte aligned.
inline constexpr uint32_t kFirstCapability = 0x40;

inline constexpr uint8_t kPinA = 1;  // Interrupt Pin: INTA#

enum class BarKind { kIo, kMemory32 };

struct Bar {
  BarKind kind = BarKind::kIo;
  uint64_t size = 0;
};

struct Identity {
  uint16_t vendor_id = 0;
  uint16_t device_id = 0;
  uint8_t revision_id = 0;
  uint32_t class_code = 0;  // base class << 16 | subclass << 8 | programming interface
  uint16_t subsystem_vendor_id = 0;
  uint16_t subsystem_id = 0;
  uint8_t interrupt_pin = 0;  // 0: none, kPinA..4
};

class ConfigSpace {
 public:
  explicit ConfigSpace(const Identity& id);

  // Declares BAR `index` (kiln's own setup: a bad index, size or overlap with a declared BAR is an
  // error). I/O BARs are 4 bytes to 64 KiB, memory BARs 16 bytes to 2 GiB; powers of two.
  [[nodiscard]] Status add_bar(int index, BarKind kind, uint64_t size);
  // Places a declared BAR at `address` (aligned to its size), as firmware would.
  [[nodiscard]] Status place_bar(int index, uint64_t address);
  void set_interrupt_line(uint8_t line) { bytes_[kInterruptLine] = line; }
  // Appends capability `id` (6.7) with `body` (what follows the ID and next pointer) to the list;
  // `writable` masks the body's bytes software may write (same length). Returns the capability's
  // offset. Errors: no room left (kiln's own setup).
  [[nodiscard]] Result<uint32_t> add_capability(uint8_t id, std::span<const uint8_t> body,
                                                std::span<const uint8_t> writable);

  // Any offset and size: bytes beyond the 256 read as all ones and are not written.
  void read(uint64_t offset, std::span<uint8_t> data) const;
  void write(uint64_t offset, std::span<const uint8_t> data);

  // Snapshot support: the 256 bytes as they are, and back. restore() takes saved bytes only if
  // every read-only bit equals this function's (the same device in the same place); the
  // writable bits go in as a guest's writes would. Leaves the space unchanged on error.
  [[nodiscard]] std::span<const uint8_t> bytes() const { return bytes_; }
  [[nodiscard]] Status restore(std::span<const uint8_t> saved);

  [[nodiscard]] uint16_t command() const { return read16(kCommand); }
  [[nodiscard]] uint16_t read_u16(uint32_t at) const { return at + 1 < kConfigSize ? read16(at) : 0xffff; }
  [[nodiscard]] const std::optional<Bar>& bar(int index) const { return bars_.at(static_cast<size_t>(index)); }
  // The address BAR `index` holds (0: not placed, or no such BAR).
  [[nodiscard]] uint64_t bar_address(int index) const;
  // Where BAR `index` decodes now: its address while its kind of decoding is on in Command and
  // the address is not 0; nullopt otherwise (and for a BAR that does not exist).
  [[nodiscard]] std::optional<uint64_t> decoded_bar(int index) const;

 private:
  [[nodiscard]] uint16_t read16(uint32_t at) const { return static_cast<uint16_t>(bytes_[at] | bytes_[at + 1] << 8); }
  [[nodiscard]] uint32_t read32(uint32_t at) const;
  void put(uint32_t at, uint64_t value, int size, uint64_t writable);

  std::array<uint8_t, kConfigSize> bytes_{};
  std::array<uint8_t, kConfigSize> writable_{};
  std::array<std::optional<Bar>, kNumBars> bars_{};
  uint32_t last_capability_ = 0;  // 0: none yet
  uint32_t next_capability_ = kFirstCapability;
};

}  // namespace kiln::pci
