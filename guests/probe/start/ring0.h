// The C++ view of the probe's ring-0 start-up (ring0.S): its entry points into ring 3 and the
// data the ring-0 paths share with ring-3 code. All of it is ordinary memory under the
// user-accessible identity map, so ring 3 reads and writes it directly.
#pragma once

#include <cstdint>

#include "probe/start/ring0_layout.h"

namespace kiln::probe {

// Filled by the exception path before it enters probe_fault_entry (offsets in ring0_layout.h).
struct FaultRecord {
  uint64_t vector;
  uint64_t error;
  uint64_t rip;
  uint64_t cs;
  uint64_t rflags;
  uint64_t rsp;
  uint64_t cr2;
  uint64_t count;  // exceptions taken; the reporter runs only for the first
};
static_assert(sizeof(FaultRecord) == PROBE_FAULT_RECORD_SIZE);
static_assert(__builtin_offsetof(FaultRecord, cr2) == PROBE_FAULT_CR2);
static_assert(__builtin_offsetof(FaultRecord, count) == PROBE_FAULT_COUNT);

}  // namespace kiln::probe

extern "C" {
// Ring-3 entry after start-up (main.cpp): the runtime's boot kind and boot information pointer.
[[noreturn]] void probe_main(uint32_t kind, uint64_t info);
// Ring-3 entry after an exception (fault.cpp), on its own stack, interrupts off.
[[noreturn]] void probe_fault_entry();

extern const uint8_t probe_vector_stubs[];      // PROBE_VECTORS stubs of PROBE_STUB_SIZE bytes
extern const uint8_t probe_vector_stubs_end[];
extern uint64_t probe_idt[2 * PROBE_VECTORS];   // filled from ring 3 (idt.cpp)
extern volatile uint32_t probe_interrupt_counts[PROBE_VECTORS];
extern volatile kiln::probe::FaultRecord probe_fault_record;
}
