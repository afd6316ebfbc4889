// The floor of an exit round trip: a tiny VM made with raw KVM ioctls (no kiln code), one vCPU in
// real mode running `out dx, al` (or a byte store to an address with no memory slot) in a loop,
// and a KVM_RUN loop that returns to it at once. Nothing a VMM does can be cheaper than this.
#pragma once

#include <cstdint>

#include "common/result.h"

namespace kiln::bench {

enum class FloorExit { pio_write, mmio_write };

// Runs `warmup` then `count` exits of the given kind; returns host nanoseconds per exit of the
// timed part (steady_clock around the KVM_RUN loop).
[[nodiscard]] Result<double> kvm_floor_ns_per_exit(FloorExit kind, uint64_t count, uint64_t warmup = 1000);

}  // namespace kiln::bench
