#include "devices/quiet_ports.h"

#include <algorithm>
#include <array>
#include <memory>

namespace kiln {

namespace {
// Ports Linux touches while booting a PC-style guest (io_delay, legacy probes).
constexpr std::array kStandardRanges{
    QuietRange{0x80, 1, "POST/io-delay port"},
    QuietRange{0x87, 1, "DMA page register"},
    QuietRange{0xed, 1, "alternate io-delay port"},
    QuietRange{0x201, 1, "game port"},
    QuietRange{0x2e8, 8, "COM4 (absent)"},
    QuietRange{0x2f8, 8, "COM2 (absent)"},
    QuietRange{0x378, 8, "LPT1 (absent)"},
    QuietRange{0x3c0, 0x20, "VGA (absent)"},
    QuietRange{0x3e8, 8, "COM3 (absent)"},
    // Edge/level control of the PICs; KVM's in-kernel PIC claims these first when it exists.
    QuietRange{0x4d0, 2, "PIC ELCR"},
};
}  // namespace

void QuietPorts::read(uint64_t /*offset*/, std::span<uint8_t> data) {
  std::fill(data.begin(), data.end(), read_value_);
}

void QuietPorts::write(uint64_t /*offset*/, std::span<const uint8_t> /*data*/) {}

std::span<const QuietRange> standard_quiet_ranges() { return kStandardRanges; }

Status add_quiet_ports(Bus& bus) {
  auto quiet = std::make_shared<QuietPorts>();
  for (const QuietRange& r : kStandardRanges) KILN_TRY(bus.add(r.base, r.length, quiet, r.name));
  return {};
}

}  // namespace kiln
