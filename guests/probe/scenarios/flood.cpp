// probe=flood: thousands of malformed requests to virtio-rng, virtio-blk and virtio-console
// (issue 12: "the probe sends thousands of malformed rng, blk and console requests; kiln's log
// stays bounded and the counters show them"), then proof that each device still works. Per
// device found (rng, blk, console; a missing one is skipped with an info line):
//   1. bring-up without ring features, one queue (console: both), RawRing for the rest
//   2. flood.rounds rounds of 16 malformed chains (flood_kinds.cpp cycles through the kinds),
//      each round published at once, one notify, then a wait until the device has returned
//      every chain it can return (a head outside the queue comes back as nothing)
//   3. flood.notifies QueueNotify writes naming a queue the device does not have
//   4. blk only: flood.activations DRIVER_OK writes with no queue set up (activation fails)
//   5. Status 0, a normal bring-up and one valid request (rng: random bytes; blk: a read of
//      sector 0 with status OK; console: a line transmitted, and the console input received)
// Checks: flood.<dev>.answered (every round returned in time), flood.<dev>.after (step 5);
// flood.console-rx.answered / .after when flood.console_rx=1 (the harness must have written
// console input before the run: receive chains are only looked at while input waits).
// Lines: PROBE result flood.<dev> sent=N errors=E notifies=K activations=A, where errors counts
// the chains a device can tell are malformed (sent minus the well-formed-but-odd ones such as a
// zero-length transmit buffer); PROBE result flood total=N.
// With flood.hold_ms > 0 the probe then prints PROBE info flood.hold and waits up to that long
// for the harness's signal before it ends (the harness reads the metrics meanwhile): console
// input with flood.console_rx=1, else a configuration change interrupt of the disk (PATCH /drives).
// Parameters: flood.rounds=128 (1..100000), flood.notifies=100, flood.activations=100,
// flood.console_rx=0, flood.hold_ms=0, flood.wait_ms=2000.
#include "probe/lib/report.h"
#include "probe/lib/tsc.h"
#include "probe/scenarios/flood_kinds.h"

namespace kiln::probe {
namespace {

struct FloodParams {
  uint64_t rounds = 0;
  uint64_t notifies = 0;
  uint64_t activations = 0;
  bool console_rx = false;
  uint64_t hold_ms = 0;
  uint64_t wait_cycles = 0;
  uint64_t cycles_per_ms = 0;
};

struct Tally {
  uint64_t sent = 0;
  uint64_t errors = 0;
};

// Reset, negotiate nothing, queues 0..n-1 of up to kFloodQueueSize entries, DRIVER_OK.
bool bring_up(Mmio& t, driver::Arena& arena, MmioQueue* queues, uint16_t n) {
  if (!driver::negotiate(t, 0)) return false;
  for (uint16_t i = 0; i < n; ++i) {
    auto q = driver::setup_queue(t, arena, i, kFloodQueueSize, driver::RingOptions{});
    if (!q) return false;
    queues[i] = q.value();
    queues[i].ring().disable_interrupts();
  }
  return driver::driver_ok(t) == driver::Error::none;
}

// Floods queue `index` with `rounds` rounds of the kinds in `kinds`; false if a round was not
// returned within the wait (the device stopped answering).
bool flood_queue(Mmio& t, MmioQueue& q, const FloodKinds& kinds, const FloodScratch& s, const FloodParams& p,
                 Tally& tally) {
  driver::RawRing& raw = q.ring().raw();
  uint16_t avail = raw.avail_idx();
  uint16_t expect_used = raw.used_idx();
  for (uint64_t round = 0; round < p.rounds; ++round) {
    for (uint16_t i = 0; i < kFloodBatch; ++i) {
      const FloodKind& k = kinds.kinds[(round * kFloodBatch + i) % kinds.count];
      raw.set_avail_entry(static_cast<uint16_t>(avail + i), k.build(raw, static_cast<uint16_t>(i * kDescsPerChain), s));
      ++tally.sent;
      if (k.detectable) ++tally.errors;
      if (k.returned) ++expect_used;
    }
    avail = static_cast<uint16_t>(avail + kFloodBatch);
    raw.publish_avail_idx(avail);
    t.notify(q.index());
    const uint64_t start = rdtsc_ordered();
    while (raw.used_idx() != expect_used) {
      if (rdtsc_ordered() - start > p.wait_cycles) {
        info("flood round=", dec(round), " used=", dec(raw.used_idx()), " expected=", dec(expect_used));
        return false;
      }
      cpu_relax();
    }
  }
  return true;
}

// Register-level mistakes: notifies for a queue that does not exist.
void bad_notifies(Mmio& t, uint64_t n) {
  for (uint64_t i = 0; i < n; ++i) t.regs().write32(driver::mmio::kQueueNotify, 0x77);
}

// DRIVER_OK with no queue set up: a blk device cannot activate without its request queue.
void bad_activations(Mmio& t, uint64_t n) {
  for (uint64_t i = 0; i < n; ++i) {
    t.reset();
    t.set_status(driver::kStatusAcknowledge | driver::kStatusDriver);
    t.set_status(driver::kStatusAcknowledge | driver::kStatusDriver | driver::kStatusDriverOk);
  }
  t.reset();
}

void run_device(const Context& ctx, const FloodDevice& dev, const FloodParams& p, driver::Arena& arena,
                uint64_t& total) {
  VirtioMmioDevice where;
  if (!find_virtio_mmio(ctx.cmdline, dev.device_id, where)) {
    info("flood ", dev.name, " absent: skipped");
    return;
  }
  Mmio t(MmioRegisters{where.base});
  MmioQueue queues[2];
  Tally tally;
  begin_check(dev.answered);
  arena.reset();
  auto scratch = make_flood_scratch(arena);
  const uint16_t nq = dev.device_id == driver::kDeviceConsole ? 2 : 1;
  bool ok = scratch.ok() && bring_up(t, arena, queues, nq);
  if (ok) ok = flood_queue(t, queues[dev.queue], dev.kinds, scratch.value(), p, tally);
  check(dev.answered, ok, "sent=", dec(tally.sent));
  bad_notifies(t, p.notifies);
  const uint64_t activations = dev.device_id == driver::kDeviceBlock ? p.activations : 0;
  bad_activations(t, activations);
  result(dev.name, "sent=", dec(tally.sent), " errors=", dec(tally.errors), " notifies=", dec(p.notifies),
         " activations=", dec(activations));
  total += tally.sent;

  begin_check(dev.after);
  t.reset();
  arena.reset();
  ok = bring_up(t, arena, queues, nq) && valid_request(dev.device_id, t, queues, arena);
  check(dev.after, ok, "status=", hex(t.status()));

  if (dev.device_id != driver::kDeviceConsole || !p.console_rx) return;
  // Receive chains are looked at while input waits: the harness wrote some before the run.
  Tally rx;
  begin_check("flood.console-rx.answered");
  arena.reset();
  scratch = make_flood_scratch(arena);
  ok = scratch.ok() && bring_up(t, arena, queues, 2) &&
       flood_queue(t, queues[driver::console::kReceiveQueue], console_rx_kinds(), scratch.value(), p, rx);
  check("flood.console-rx.answered", ok, "sent=", dec(rx.sent));
  result("flood.console-rx", "sent=", dec(rx.sent), " errors=", dec(rx.errors));
  total += rx.sent;
  begin_check("flood.console-rx.after");
  t.reset();
  arena.reset();
  ok = bring_up(t, arena, queues, 2) && receive(queues[driver::console::kReceiveQueue], arena, p.wait_cycles);
  check("flood.console-rx.after", ok, "status=", hex(t.status()));
  t.reset();
}

// Keeps the VM running until the harness says so (it reads the metrics meanwhile): console input
// when the console's receive queue was flooded (the harness writes input anyway), else a
// configuration change of the disk (PATCH /drives), else the time-out.
void hold(const Context& ctx, const FloodParams& p, driver::Arena& arena) {
  const uint64_t cycles = p.hold_ms * p.cycles_per_ms;
  VirtioMmioDevice where;
  MmioQueue queues[2];
  arena.reset();
  if (p.console_rx && find_virtio_mmio(ctx.cmdline, driver::kDeviceConsole, where)) {
    Mmio t(MmioRegisters{where.base});
    if (!bring_up(t, arena, queues, 2)) return;
    info("flood.hold waiting for console input");
    (void)receive(queues[driver::console::kReceiveQueue], arena, cycles);
    t.reset();
    return;
  }
  if (!find_virtio_mmio(ctx.cmdline, driver::kDeviceBlock, where)) return;
  Mmio t(MmioRegisters{where.base});
  if (!bring_up(t, arena, queues, 1)) return;
  info("flood.hold waiting for a configuration change of the disk");
  const uint64_t start = rdtsc_ordered();
  while ((t.interrupt_status() & 2u) == 0 && rdtsc_ordered() - start < cycles) {
    const uint64_t pause = rdtsc_ordered();
    while (rdtsc_ordered() - pause < p.cycles_per_ms) cpu_relax();  // one register read a millisecond
  }
  t.reset();
}

}  // namespace

void run_flood(const Context& ctx) {
  FloodParams p;
  uint64_t console_rx = 0;
  uint64_t wait_ms = 0;
  if (!ctx.number_in("flood.rounds", 128, 1, 100000, p.rounds) ||
      !ctx.number_in("flood.notifies", 100, 0, 1000000, p.notifies) ||
      !ctx.number_in("flood.activations", 100, 0, 1000000, p.activations) ||
      !ctx.number_in("flood.console_rx", 0, 0, 1, console_rx) ||
      !ctx.number_in("flood.hold_ms", 0, 0, 600000, p.hold_ms) ||
      !ctx.number_in("flood.wait_ms", 2000, 1, 600000, wait_ms)) {
    return;
  }
  p.console_rx = console_rx != 0;
  const TscFrequency tsc = tsc_frequency(false);
  p.cycles_per_ms = (tsc.hz != 0 ? tsc.hz : uint64_t{4000000000}) / 1000;
  p.wait_cycles = p.cycles_per_ms * wait_ms;
  driver::Arena arena = dma_arena();
  uint64_t total = 0;
  for (uint32_t i = 0; i < kFloodDevices; ++i) run_device(ctx, flood_devices()[i], p, arena, total);
  result("flood", "total=", dec(total));
  hold(ctx, p, arena);
}

}  // namespace kiln::probe
