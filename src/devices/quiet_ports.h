// Ports where PC hardware may sit but kiln emulates nothing: writes are ignored, reads return a
// fixed byte (0xff: "nothing here", which is how Linux recognises an absent UART, LPT or VGA).
// Registering them keeps the unhandled-access log for real surprises.
#pragma once

#include <cstdint>
#include <span>

#include "common/result.h"
#include "devices/bus.h"

namespace kiln {

class QuietPorts : public BusDevice {
 public:
  explicit QuietPorts(uint8_t read_value = 0xff) : read_value_(read_value) {}
  void read(uint64_t offset, std::span<uint8_t> data) override;
  void write(uint64_t offset, std::span<const uint8_t> data) override;

 private:
  const uint8_t read_value_;  // immutable: no lock needed
};

struct QuietRange {
  uint16_t base;
  uint16_t length;
  const char* name;
};

// The standard set add_quiet_ports registers (none overlaps COM1 0x3f8, the i8042 0x60-0x64 or PCI 0xcf8).
[[nodiscard]] std::span<const QuietRange> standard_quiet_ranges();

// Adds one QuietPorts(0xff) at every standard range.
[[nodiscard]] Status add_quiet_ports(Bus& bus);

}  // namespace kiln
