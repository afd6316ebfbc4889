// probe=selftest: checks the probe's own footing, so that the other scenarios can trust it.
//   selftest.ring3          CS and SS have RPL 3: the probe runs in ring 3
//   selftest.iopl           RFLAGS.IOPL = 3: port I/O from ring 3 exits to the VMM, no #GP
//   selftest.interrupts_off RFLAGS.IF = 0 as handed over by the start-up code
//   selftest.tsc            RDTSC advances across a port exit
//   selftest.interrupt      two LAPIC self-IPIs (vector 0x40) reach the ring-0 interrupt path,
//                           which counts each and EOIs it (the second needs the first's EOI)
//                           (skipped with irq=0)
//   selftest.fault          with fault=1 (or fault=pf): a ring-3 read of unmapped 0x100000000
//                           must be caught by the exception path, which prints
//                           "PROBE fail selftest.fault exception vector=14 ... cr2=0x100000000"
//                           and ends the run (a run with fault= is meant to report a failure);
//                           fault=gp: INT 0x40 from ring 3 through a DPL-0 gate (#GP, error code
//                           0x202 = IDT entry 0x40; QEMU 7.2 TCG reports 0x402, vector * 16 + 2);
//                           fault=ud: UD2 (#UD, no error code: the stub pushes 0)
#include "probe/lib/cpu.h"
#include "probe/lib/lapic.h"
#include "probe/lib/report.h"
#include "probe/scenarios/scenario.h"
#include "probe/start/ring0.h"
#include "runtime/io.h"

namespace kiln::probe {
namespace {

constexpr uint8_t kTestVector = 0x40;
constexpr uint32_t kWaitIterations = 100000;
constexpr uint64_t kUnmapped = uint64_t{1} << 32;  // the identity map ends at 4 GiB
constexpr uint16_t kUnusedPort = 0x510;

uint32_t test_vector_count() { return probe_interrupt_counts[kTestVector]; }

void check_interrupt() {
  begin_check("selftest.interrupt");
  mask_8259_pics();
  lapic_enable();
  const uint32_t before = test_vector_count();
  uint32_t delivered = 0;
  for (uint32_t round = 1; round <= 2; ++round) {
    lapic_self_ipi(kTestVector);
    interrupts_on();
    for (uint32_t i = 0; i < kWaitIterations && test_vector_count() - before < round; ++i) cpu_relax();
    interrupts_off();
    delivered = test_vector_count() - before;
    if (delivered < round) break;
  }
  check("selftest.interrupt", delivered == 2, "vector=", hex(kTestVector), " delivered=", dec(delivered),
        " expected=2");
}

}  // namespace

void run_selftest(const Context& ctx) {
  uint64_t irq = 1;
  if (!ctx.number_in("irq", 1, 0, 1, irq)) return;
  const Text fault = ctx.text("fault", "0");
  if (!(fault == "0" || fault == "1" || fault == "pf" || fault == "gp" || fault == "ud")) {
    fail("params", "fault=", fault, " is not one of 0, 1, pf, gp, ud");
    return;
  }

  const uint16_t cs = read_cs();
  const uint16_t ss = read_ss();
  check("selftest.ring3", (cs & 3) == 3 && (ss & 3) == 3, "cs=", hex(cs), " ss=", hex(ss));
  const uint64_t rflags = read_rflags();
  check("selftest.iopl", ((rflags >> kRflagsIoplShift) & 3) == 3, "rflags=", hex(rflags));
  check("selftest.interrupts_off", (rflags & kRflagsIf) == 0, "rflags=", hex(rflags));

  begin_check("selftest.tsc");
  const uint64_t t0 = rdtsc_ordered();
  guest::outb(kUnusedPort, 0);
  const uint64_t t1 = rdtsc_ordered();
  check("selftest.tsc", t1 > t0, "rdtsc went from ", hex(t0), " to ", hex(t1));

  if (irq != 0) check_interrupt();

  if (fault == "0") return;
  begin_check("selftest.fault");
  if (fault == "gp") {
    asm volatile("int $0x40" : : : "memory");
    fail("selftest.fault", "int 0x40 from ring 3 did not fault");
  } else if (fault == "ud") {
    asm volatile("ud2" : : : "memory");
    fail("selftest.fault", "ud2 did not fault");
  } else {
    (void)mmio_read8(kUnmapped);
    fail("selftest.fault", "reading ", hex(kUnmapped), " did not fault");
  }
}

}  // namespace kiln::probe
