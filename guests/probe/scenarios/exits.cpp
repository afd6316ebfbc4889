// probe=exits: the cost of one VM exit round trip (guest -> VMM -> guest) from ring 3, for each
// kind of access a device driver makes, timed with the TSC over `count` back-to-back accesses.
//
// Parameters: count=N (default 10000, 1..10^9), port=P (default 0x510), addr=A (default
// 0xd0000000, 4-byte aligned, in the 3..4 GiB hole), ops=LIST (comma-separated subset of
// pio_write,pio_read,mmio_write,mmio_read; default all), max_ns=N (fail a variant slower than
// N ns per exit; default 0 = no limit), tsc=pit (measure the TSC against the PIT even if CPUID
// gives its frequency).
//
// Lines: PROBE result tsc hz=<Hz|unknown> source=<source>
//        PROBE result exits.<op> count=N cycles_per_exit=C ns_per_exit=<ns|unknown>
//        PROBE ok|fail exits.<op>
#include "probe/lib/cpu.h"
#include "probe/lib/report.h"
#include "probe/lib/tsc.h"
#include "probe/scenarios/scenario.h"
#include "runtime/io.h"

namespace kiln::probe {
namespace {

constexpr uint64_t kHoleStart = 0xc0000000;
constexpr uint64_t kHoleEnd = 0x100000000;

struct Settings {
  uint64_t count;
  uint64_t max_ns;
  Text ops;
  TscFrequency tsc;
};

template <class Access>
void measure(const Settings& s, Text op, Text check_name, Access access) {
  if (!s.ops.empty() && !list_contains(s.ops, op)) return;
  begin_check(check_name);
  const uint64_t start = rdtsc_ordered();
  for (uint64_t i = 0; i < s.count; ++i) access();
  const uint64_t end = rdtsc_ordered();
  const uint64_t cycles10 = (end - start) * 10 / s.count;  // tenths of a cycle per exit
  if (s.tsc.hz == 0) {
    result(check_name, "count=", dec(s.count), " cycles_per_exit=", tenths(cycles10), " ns_per_exit=unknown");
    check(check_name, end > start, "the TSC did not advance");
    return;
  }
  const uint64_t ns10 = mul_div(cycles10, 1000000000, s.tsc.hz);
  result(check_name, "count=", dec(s.count), " cycles_per_exit=", tenths(cycles10), " ns_per_exit=", tenths(ns10));
  if (end <= start) {
    fail(check_name, "the TSC did not advance");
  } else {
    check(check_name, s.max_ns == 0 || ns10 <= s.max_ns * 10, "ns_per_exit=", tenths(ns10),
          " above max_ns=", dec(s.max_ns));
  }
}

}  // namespace

void run_exits(const Context& ctx) {
  Settings s{};
  uint64_t port = 0;
  uint64_t addr = 0;
  if (!ctx.number_in("count", 10000, 1, 1000000000, s.count) || !ctx.number_in("port", 0x510, 0, 0xffff, port) ||
      !ctx.number_in("addr", 0xd0000000, kHoleStart, kHoleEnd - 4, addr) ||
      !ctx.number_in("max_ns", 0, 0, 1000000000, s.max_ns)) {
    return;
  }
  if (addr % 4 != 0) {
    fail("params", "addr=", hex(addr), " is not 4-byte aligned");
    return;
  }
  s.ops = ctx.text("ops", Text{});
  s.tsc = tsc_frequency(ctx.text("tsc", "auto") == "pit");
  if (s.tsc.hz == 0) {
    result("tsc", "hz=unknown source=none");
    info("no TSC frequency (no usable CPUID leaf, no counting PIT): cycles only");
  } else {
    result("tsc", "hz=", dec(s.tsc.hz), " source=", s.tsc.source);
  }

  const auto p = static_cast<uint16_t>(port);
  measure(s, "pio_write", "exits.pio_write", [p] { guest::outb(p, 0); });
  measure(s, "pio_read", "exits.pio_read", [p] { (void)guest::inb(p); });
  measure(s, "mmio_write", "exits.mmio_write", [addr] { mmio_write32(addr, 0); });
  measure(s, "mmio_read", "exits.mmio_read", [addr] { (void)mmio_read32(addr); });
}

}  // namespace kiln::probe
