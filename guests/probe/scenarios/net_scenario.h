// What probe=net's files share (net.cpp functional checks, net_bench.h frames per second): the
// parameters, the legacy virtio-PCI transport of the net function, a MAC address printer.
#pragma once

#include <cstdint>

#include "drivers/virtio/pci.h"
#include "probe/scenarios/net_port.h"
#include "probe/scenarios/scenario.h"

namespace kiln::probe {

struct NetParams {
  bool pci = false;
  uint64_t wanted = 0;  // features to accept if offered, ring features included
  uint32_t frames = 16;
  uint16_t queue_size = 256;
  bool bad = true;
  uint64_t pps = 0;     // > 0: frames per second mode with this many frames
  uint32_t window = 32; // pps echo mode: frames in flight
};

// Reads the net.* parameters; false after a params failure.
[[nodiscard]] bool read_net_params(const Context& ctx, NetParams& p);

using PciNet = driver::LegacyPci<PortRegisters>;

// The first legacy virtio-PCI function with device ID 0x1000 (network) on bus 0, I/O decode and
// bus mastering on. Checks net.found.
[[nodiscard]] bool find_pci_net(PciNet& out);

// "aa:bb:cc:dd:ee:ff" for print_line.
struct MacText {
  char text[17];
  explicit MacText(const uint8_t m[6]) {
    const char* digits = "0123456789abcdef";
    for (uint32_t i = 0; i < 6; ++i) {
      text[i * 3] = digits[m[i] >> 4];
      text[i * 3 + 1] = digits[m[i] & 15];
      if (i < 5) text[i * 3 + 2] = ':';
    }
  }
};
inline void emit(const MacText& m) { guest::serial_write(m.text, sizeof m.text); }

}  // namespace kiln::probe

#include "probe/scenarios/net_bench.h"
