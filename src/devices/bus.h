// One bus type for port I/O and for MMIO: a fixed table of address ranges, each owned by a device.
//
// Setup adds ranges (single-threaded); afterwards the bus is immutable and several vCPU threads
// dispatch through it concurrently without locks (sorted vector + binary search). Each device
// serialises its own state with its own mutex.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "common/result.h"

namespace kiln {

// A device on a bus sees offsets from the base of the range it was added at.
class BusDevice {
 public:
  virtual ~BusDevice() = default;
  // Fills data (1, 2, 4 or 8 bytes for KVM exits; any size is allowed).
  virtual void read(uint64_t offset, std::span<uint8_t> data) = 0;
  virtual void write(uint64_t offset, std::span<const uint8_t> data) = 0;
};

class Bus {
 public:
  struct Entry {
    uint64_t base = 0;
    uint64_t last = 0;  // inclusive, so a range may end at 2^64 - 1 without overflow
    std::shared_ptr<BusDevice> dev;
    std::string name;
  };

  // Registers [base, base + len). Empty, wrapping or overlapping ranges and a null device are errors
  // (kiln's own configuration). The same device may be added at several ranges.
  [[nodiscard]] Status add(uint64_t base, uint64_t len, std::shared_ptr<BusDevice> dev, std::string name);

  // Dispatches to the device whose range holds all of [addr, addr + data.size()). Returns false when
  // there is none (nothing there, the access straddles a range end, or data is empty); a failed read
  // leaves data untouched (the caller fills 0xff).
  bool read(uint64_t addr, std::span<uint8_t> data) const;
  bool write(uint64_t addr, std::span<const uint8_t> data) const;

  // The range holding addr, or nullptr (for logging and tests).
  [[nodiscard]] const Entry* find(uint64_t addr) const;
  [[nodiscard]] std::span<const Entry> entries() const { return entries_; }

 private:
  // The entry that holds the whole access and the offset into it, or nullptr.
  [[nodiscard]] const Entry* route(uint64_t addr, size_t size, uint64_t& offset) const;

  std::vector<Entry> entries_;  // sorted by base, disjoint
};

}  // namespace kiln
