// Hosted adapters that put the driver library in front of kiln's own device code, for unit tests:
//   BusRegisters      RegisterAccess through a kiln BusDevice (e.g. virtio::MmioTransport), so
//                     each register access is one BusDevice::read/write, as a vCPU exit would be
//   window_of()       a PhysWindow over part of a kiln GuestMemory (guest physical <-> host)
// Consumers link kiln_memory and kiln_devices (kiln_virtio brings both).
#pragma once

#include <cstdint>
#include <cstring>
#include <span>

#include "devices/bus.h"
#include "drivers/virtio/phys_window.h"
#include "drivers/virtio/registers.h"
#include "memory/guest_memory.h"

namespace kiln::driver {

struct BusRegisters {
  BusDevice* device = nullptr;

  template <class T>
  [[nodiscard]] T read(uint32_t offset) const {
    uint8_t bytes[sizeof(T)];
    device->read(offset, std::span<uint8_t>(bytes, sizeof(T)));
    T v;
    std::memcpy(&v, bytes, sizeof(T));
    return v;
  }
  template <class T>
  void write(uint32_t offset, T v) const {
    uint8_t bytes[sizeof(T)];
    std::memcpy(bytes, &v, sizeof(T));
    device->write(offset, std::span<const uint8_t>(bytes, sizeof(T)));
  }

  [[nodiscard]] uint8_t read8(uint32_t o) const { return read<uint8_t>(o); }
  [[nodiscard]] uint16_t read16(uint32_t o) const { return read<uint16_t>(o); }
  [[nodiscard]] uint32_t read32(uint32_t o) const { return read<uint32_t>(o); }
  void write8(uint32_t o, uint8_t v) const { write(o, v); }
  void write16(uint32_t o, uint16_t v) const { write(o, v); }
  void write32(uint32_t o, uint32_t v) const { write(o, v); }
};
static_assert(RegisterAccess<BusRegisters>);

// [start, start + size) of guest RAM as a window; an empty window if the range is not RAM.
[[nodiscard]] inline PhysWindow window_of(const GuestMemory& mem, GuestAddress start, uint64_t size) {
  auto s = mem.slice(start, size);
  if (!s) return PhysWindow{};
  return PhysWindow{start.raw(), s->data(), size};
}

}  // namespace kiln::driver
