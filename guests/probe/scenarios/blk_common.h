// What blk.cpp (functional checks) and blk_bench.cpp (throughput) share: parameters and bring-up.
#pragma once

#include <cstdint>

#include "probe/scenarios/scenario.h"
#include "probe/scenarios/virtio_setup.h"

namespace kiln::probe {

struct BlkParams {
  bool readonly = false;
  uint64_t expect_sectors = 0;
  Text expect_serial;
  uint64_t sector = 0;
  bool indirect = true;
  bool event_idx = true;
  uint16_t queue_size = 128;
  uint64_t unsupp_type = 0x40;
  Text bench;           // randread | seqread | empty
  uint64_t qd = 1;      // bench: requests in flight
  uint64_t count = 0;   // bench: requests in all
  uint64_t bs = 4096;   // bench: bytes per request (a multiple of 512)
  bool pci = false;     // bench: blk.transport=pci (legacy virtio-PCI on bus 0), else virtio-mmio
};

// Reads the blk.* parameters (and qd, count, bs for the bench); false after a params failure.
[[nodiscard]] bool read_blk_params(const Context& ctx, BlkParams& p);

// Finds the virtio-blk device, negotiates (RO, FLUSH, BLK_SIZE, SEG_MAX and the ring features
// the parameters allow) and sets up queue 0 with at most `queue_size` entries. Setup is
// VirtioSetup (virtio-mmio) or VirtioPciSetup (legacy virtio-PCI).
template <class Setup>
[[nodiscard]] bool blk_bring_up(const Context& ctx, const BlkParams& p, driver::Arena& arena, Setup& dev,
                                uint16_t queue_size);

void run_blk_bench(const Context& ctx, const BlkParams& p);  // blk_bench.cpp

}  // namespace kiln::probe
