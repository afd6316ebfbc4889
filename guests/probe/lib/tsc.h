// TSC frequency, for turning cycles into nanoseconds. Sources, in order of preference:
//   cpuid-0x40000010  hypervisor timing leaf (TSC kHz in EAX; VMware's convention, offered by
//                     QEMU and others) when the hypervisor leaves reach it
//   cpuid-0x15        TSC/crystal ratio times the crystal frequency, when all three are given
//   pit               measured: ~25 ms of PIT channel 0 (1.193182 MHz) against the TSC
//   cpuid-0x16        the processor base frequency in MHz (nominal, only if the PIT fails)
//   none              hz = 0: callers print cycles only and say so
#pragma once

#include <cstdint>

#include "runtime/string_util.h"

namespace kiln::probe {

struct TscFrequency {
  uint64_t hz = 0;
  guest::Text source = "none";
};

// force_pit skips the CPUID sources (to cross-check them). May leave PIT channel 0 counting in
// mode 0 (see measure_tsc_with_pit).
[[nodiscard]] TscFrequency tsc_frequency(bool force_pit);

// Measures the TSC against PIT channel 0; false if the PIT does not count (no PIT).
[[nodiscard]] bool measure_tsc_with_pit(uint64_t& hz);

}  // namespace kiln::probe
