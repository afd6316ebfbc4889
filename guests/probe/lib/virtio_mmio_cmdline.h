// virtio-mmio devices announced on the command line, as Linux's virtio_mmio driver reads them
// (drivers/virtio/virtio_mmio.c, "virtio_mmio.device=<size>@<baseaddr>:<irq>[:<id>]"):
// size in memparse() syntax (K/M/G suffixes), base a C literal, irq decimal, optional id.
#pragma once

#include <cstdint>

#include "probe/lib/cmdline.h"

namespace kiln::probe {

struct VirtioMmioDevice {
  uint64_t base = 0;
  uint64_t size = 0;
  uint32_t irq = 0;
  bool has_id = false;
  uint32_t id = 0;
};

// Parses one value of virtio_mmio.device=; false if it is malformed (zero size, a missing
// field, trailing characters, a range that wraps, irq or id beyond 32 bits).
[[nodiscard]] bool parse_virtio_mmio_device(Text value, VirtioMmioDevice& device);

// Prints one "PROBE info virtio-mmio ..." line per entry and checks them
// ("discovery.virtio-mmio"); returns the number of well-formed entries.
uint32_t list_virtio_mmio_devices(const Cmdline& cmdline);

}  // namespace kiln::probe
