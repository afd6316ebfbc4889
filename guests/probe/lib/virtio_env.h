// The probe's environment for the driver library (drivers/virtio): registers reached by single
// MOV instructions in the uncached 3..4 GiB hole (cpu.h), or by IN/OUT on an I/O BAR, and the DMA
// arena (dma_arena.S), identity-mapped. Plus finding a virtio-mmio device by its device ID among
// the ones announced with virtio_mmio.device= and waiting for a completion with a time limit.
#pragma once

#include <cstdint>

#include "drivers/virtio/device.h"
#include "drivers/virtio/mmio.h"
#include "drivers/virtio/pci.h"
#include "probe/lib/cmdline.h"
#include "probe/lib/cpu.h"
#include "probe/lib/dma_arena.h"
#include "probe/lib/virtio_mmio_cmdline.h"
#include "runtime/io.h"

namespace kiln::probe {

struct MmioRegisters {
  uint64_t base = 0;
  [[nodiscard]] uint8_t read8(uint32_t o) const { return mmio_read8(base + o); }
  [[nodiscard]] uint16_t read16(uint32_t o) const { return mmio_read16(base + o); }
  [[nodiscard]] uint32_t read32(uint32_t o) const { return mmio_read32(base + o); }
  void write8(uint32_t o, uint8_t v) const { mmio_write8(base + o, v); }
  void write16(uint32_t o, uint16_t v) const { mmio_write16(base + o, v); }
  void write32(uint32_t o, uint32_t v) const { mmio_write32(base + o, v); }
};

struct PortRegisters {
  uint16_t base = 0;
  [[nodiscard]] uint8_t read8(uint32_t o) const { return guest::inb(port(o)); }
  [[nodiscard]] uint16_t read16(uint32_t o) const { return guest::inw(port(o)); }
  [[nodiscard]] uint32_t read32(uint32_t o) const { return guest::inl(port(o)); }
  void write8(uint32_t o, uint8_t v) const { guest::outb(port(o), v); }
  void write16(uint32_t o, uint16_t v) const { guest::outw(port(o), v); }
  void write32(uint32_t o, uint32_t v) const { guest::outl(port(o), v); }
  [[nodiscard]] uint16_t port(uint32_t o) const { return static_cast<uint16_t>(base + o); }
};

using Mmio = driver::LegacyMmio<MmioRegisters>;
using MmioQueue = driver::Queue<Mmio>;
using PciIo = driver::LegacyPci<PortRegisters>;  // legacy virtio-PCI through I/O BAR 0
using PciIoQueue = driver::Queue<PciIo>;

// The whole DMA arena, empty (each scenario starts from the beginning).
[[nodiscard]] driver::Arena dma_arena();

// The first announced virtio-mmio device whose DeviceID register reads `device_id` (devices that
// do not identify as legacy virtio-mmio are skipped). False if there is none.
[[nodiscard]] bool find_virtio_mmio(const Cmdline& cmdline, uint32_t device_id, VirtioMmioDevice& found);

// About 5 s of TSC cycles at 4 GHz: how long the probe waits for one completion before it calls
// the device dead. No calibration needed (a faster TSC only makes the wait shorter).
inline constexpr uint64_t kWaitCycles = uint64_t{20} * 1000 * 1000 * 1000;

// Polls `q` until a completion arrives or `cycles` TSC cycles pass (then Poll::empty).
template <class QueueT>
[[nodiscard]] driver::Poll wait_used(QueueT& q, driver::Completion& c, uint64_t cycles = kWaitCycles) {
  const uint64_t start = rdtsc_ordered();
  for (;;) {
    const driver::Poll p = q.poll(c);
    if (p != driver::Poll::empty) return p;
    if (rdtsc_ordered() - start > cycles) return driver::Poll::empty;
    cpu_relax();
  }
}

}  // namespace kiln::probe
