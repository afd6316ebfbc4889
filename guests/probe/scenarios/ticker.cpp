// probe=ticker: a guest that keeps printing, for pause/snapshot/restore tests and benchmarks.
// Prints "PROBE info tick n=K" every period_us microseconds (TSC busy-wait; period from the TSC
// frequency) for ticks=N ticks, then checks that the TSC never went backwards between ticks (a
// restored vCPU must continue its TSC) and reports the longest gap.
//
// Parameters: ticks=N (default 100, 1..10^7), period_us=U (default 10000, 1..10^7).
// Lines: PROBE result tsc hz=<Hz|unknown> source=<source>
//        PROBE info tick n=<K>                           one per tick, K from 1
//        PROBE result ticker ticks=N max_gap_cycles=C
//        PROBE ok|fail ticker.monotonic
#include "probe/lib/cpu.h"
#include "probe/lib/report.h"
#include "probe/lib/tsc.h"
#include "probe/scenarios/scenario.h"

namespace kiln::probe {

void run_ticker(const Context& ctx) {
  uint64_t ticks = 0;
  uint64_t period_us = 0;
  if (!ctx.number_in("ticks", 100, 1, 10'000'000, ticks)) return;
  if (!ctx.number_in("period_us", 10'000, 1, 10'000'000, period_us)) return;
  const TscFrequency tsc = tsc_frequency(false);
  if (tsc.hz == 0) {
    result("tsc", "hz=unknown source=none");
  } else {
    result("tsc", "hz=", dec(tsc.hz), " source=", tsc.source);
  }
  // Without a frequency, assume 1 GHz: the period is then only approximate.
  const uint64_t period = (tsc.hz != 0 ? tsc.hz : 1'000'000'000) / 1'000'000 * period_us;
  begin_check("ticker.monotonic");
  uint64_t last = rdtsc_ordered();
  uint64_t max_gap = 0;
  uint64_t backwards = 0;
  for (uint64_t n = 1; n <= ticks; ++n) {
    const uint64_t due = last + period;
    uint64_t now = rdtsc_ordered();
    while (now < due && now >= last) {
      cpu_relax();
      now = rdtsc_ordered();
    }
    if (now < last) ++backwards;
    else if (now - last > max_gap) max_gap = now - last;
    last = now;
    print_line("PROBE info tick n=", dec(n));
  }
  result("ticker", "ticks=", dec(ticks), " max_gap_cycles=", dec(max_gap));
  check("ticker.monotonic", backwards == 0, "backwards=", dec(backwards));
}

}  // namespace kiln::probe
