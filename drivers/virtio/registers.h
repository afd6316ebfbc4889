// What a transport needs from its environment: register reads and writes at an offset of the
// device's window (MMIO) or I/O BAR (legacy PCI), in 8-, 16- and 32-bit widths, each one access.
//   probe:        volatile MMIO at a physical address, or IN/OUT on a port base
//   hosted tests: calls into a kiln BusDevice (drivers/virtio/hosted/kiln.h)
#pragma once

#include <cstdint>

namespace kiln::driver {

template <class R>
concept RegisterAccess = requires(R& r, uint32_t offset, uint8_t v8, uint16_t v16, uint32_t v32) {
  static_cast<uint8_t>(r.read8(offset));
  static_cast<uint16_t>(r.read16(offset));
  static_cast<uint32_t>(r.read32(offset));
  r.write8(offset, v8);
  r.write16(offset, v16);
  r.write32(offset, v32);
};

// Registers as plain memory (hosted tests of the library itself, no device behind them).
struct MemoryRegisters {
  uint8_t* base = nullptr;
  [[nodiscard]] uint8_t read8(uint32_t o) const { return base[o]; }
  [[nodiscard]] uint16_t read16(uint32_t o) const {
    uint16_t v;
    __builtin_memcpy(&v, base + o, 2);
    return v;
  }
  [[nodiscard]] uint32_t read32(uint32_t o) const {
    uint32_t v;
    __builtin_memcpy(&v, base + o, 4);
    return v;
  }
  void write8(uint32_t o, uint8_t v) const { base[o] = v; }
  void write16(uint32_t o, uint16_t v) const { __builtin_memcpy(base + o, &v, 2); }
  void write32(uint32_t o, uint32_t v) const { __builtin_memcpy(base + o, &v, 4); }
};
static_assert(RegisterAccess<MemoryRegisters>);

}  // namespace kiln::driver
