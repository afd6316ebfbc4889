#include "probe/lib/virtio_env.h"

#include "runtime/phys.h"

namespace kiln::probe {

driver::Arena dma_arena() {
  const auto phys = reinterpret_cast<uint64_t>(probe_dma_arena);  // identity map
  return driver::Arena(driver::PhysWindow(phys, probe_dma_arena, PROBE_DMA_ARENA_SIZE));
}

bool find_virtio_mmio(const Cmdline& cmdline, uint32_t device_id, VirtioMmioDevice& found) {
  bool done = false;
  cmdline.for_each("virtio_mmio.device", [&](Text value) {
    VirtioMmioDevice d;
    if (done || !parse_virtio_mmio_device(value, d) || d.size < 0x200 || !guest::is_mapped(d.base, d.size)) return;
    Mmio t(MmioRegisters{d.base});
    driver::MmioIdentity id;
    if (t.identify(id) != driver::Error::none || id.device_id != device_id) return;
    found = d;
    done = true;
  });
  return done;
}

}  // namespace kiln::probe
