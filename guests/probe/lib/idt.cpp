#include "probe/lib/idt.h"

#include "probe/lib/report.h"
#include "probe/start/ring0.h"

namespace kiln::probe {
namespace {

// Gate type 0xE (64-bit interrupt gate) | present, DPL 0 (SDM Vol. 3A "64-Bit Mode IDT").
constexpr uint64_t kGateAttributes = 0x8e;

}  // namespace

void install_idt() {
  const uint64_t stubs = reinterpret_cast<uint64_t>(probe_vector_stubs);
  const uint64_t size = reinterpret_cast<uint64_t>(probe_vector_stubs_end) - stubs;
  if (size != uint64_t{PROBE_VECTORS} * PROBE_STUB_SIZE) {
    fail("start.idt", "vector stubs are ", dec(size), " bytes, expected ",
         dec(uint64_t{PROBE_VECTORS} * PROBE_STUB_SIZE));
    finish();
  }
  for (uint64_t vector = 0; vector < PROBE_VECTORS; ++vector) {
    const uint64_t handler = stubs + vector * PROBE_STUB_SIZE;
    probe_idt[2 * vector] = (handler & 0xffff) | (uint64_t{PROBE_GDT_KERNEL_CODE} << 16) |
                            (kGateAttributes << 40) | (((handler >> 16) & 0xffff) << 48);
    probe_idt[2 * vector + 1] = handler >> 32;
  }
}

}  // namespace kiln::probe
