// probe=blk-hammer: the guest half of issue 12's PATCH /drives race test. In a loop, as fast as
// it can, the probe resets the virtio-blk device (Status 0), brings it up again (negotiate, queue
// 0, DRIVER_OK), reads the capacity from the configuration space and reads sector 0, while the
// harness swaps the disk's backing file with PATCH /drives between two images of different sizes
// filled with different bytes. Every iteration must see one image or the other, whole: a
// capacity of either, a read with status OK and 512 bytes of one image's byte. Then, with
// blk-hammer.final=1, the probe posts a receive buffer on the virtio console and waits for input
// (the harness's "the last swap is done"), brings the disk up once more and reports what it
// serves.
// Checks: blk-hammer.found, blk-hammer.loop (every iteration as above), blk-hammer.final.
// Lines: PROBE info blk-hammer.loop-done, PROBE result blk-hammer iterations= capacity_a=
// capacity_b= data_a= data_b= bad= (what the iterations saw), PROBE result blk-hammer.final
// sectors= byte=.
// Parameters: blk-hammer.iterations=1000 (1..10^7), blk-hammer.sectors_a, .sectors_b (the two
// capacities), .byte_a, .byte_b (the two images' fill bytes), blk-hammer.final=0,
// blk-hammer.wait_ms=600000 (how long the final step waits for console input).
#include "drivers/virtio/blk.h"
#include "probe/lib/report.h"
#include "probe/lib/tsc.h"
#include "probe/scenarios/flood_kinds.h"
#include "probe/scenarios/virtio_setup.h"

namespace kiln::probe {
namespace {

struct Image {
  uint64_t sectors = 0;
  uint64_t byte = 0;
};

struct Seen {
  uint64_t capacity_a = 0;
  uint64_t capacity_b = 0;
  uint64_t data_a = 0;
  uint64_t data_b = 0;
  uint64_t bad = 0;
};

struct Sample {
  bool ok = false;  // brought up, read completed with status OK
  uint64_t sectors = 0;
  int byte = -1;    // the byte every one of the 512 bytes holds, -1 if they differ
  uint8_t status = 0;
};

// One iteration on arena `a` (a copy: every iteration allocates the same memory again).
Sample one_iteration(Mmio& t, driver::Arena a) {
  Sample s;
  t.reset();
  auto f = driver::negotiate(t, 0);
  if (!f) return s;
  auto q = driver::setup_queue(t, a, 0, 16, driver::RingOptions{});
  if (!q) return s;
  q->ring().disable_interrupts();
  if (driver::driver_ok(t) != driver::Error::none) return s;
  s.status = t.status();
  s.sectors = t.config64(driver::blk::kConfigCapacity);
  auto data = a.allocate(512, 512);
  auto req = driver::BlkRequest::allocate(a);
  if (!data || !req) return s;
  const driver::Segment seg{data->phys, 512};
  driver::Completion c;
  auto status = driver::blk_transfer(q.value(), req.value(), driver::blk::kTypeIn, 0, &seg, 1, ProbeWait{}, &c);
  if (!status.ok() || status.value() != driver::blk::kStatusOk || c.len != 513) return s;
  s.ok = true;
  s.byte = data->host[0];
  for (uint32_t i = 1; i < 512; ++i) {
    if (data->host[i] != data->host[0]) s.byte = -1;
  }
  return s;
}

void tally(const Sample& s, const Image& a, const Image& b, Seen& seen, uint64_t iteration) {
  const bool cap_ok = s.sectors == a.sectors || s.sectors == b.sectors;
  const bool data_ok = s.byte >= 0 && (uint64_t(s.byte) == a.byte || uint64_t(s.byte) == b.byte);
  if (!s.ok || !cap_ok || !data_ok) {
    if (seen.bad++ < 5) {
      info("blk-hammer iteration=", dec(iteration), " ok=", dec(s.ok ? 1 : 0), " sectors=", dec(s.sectors),
           " byte=", hex(uint64_t(s.byte < 0 ? 0xffff : s.byte)), " (0xffff: mixed)");
    }
    return;
  }
  if (s.sectors == a.sectors) ++seen.capacity_a;
  if (s.sectors == b.sectors) ++seen.capacity_b;
  if (uint64_t(s.byte) == a.byte) ++seen.data_a;
  if (uint64_t(s.byte) == b.byte) ++seen.data_b;
}

// Waits for console input (the harness's signal); false on time-out or without a console.
bool wait_for_input(const Context& ctx, driver::Arena& arena, uint64_t cycles) {
  VirtioMmioDevice where;
  if (!find_virtio_mmio(ctx.cmdline, driver::kDeviceConsole, where)) return false;
  Mmio t(MmioRegisters{where.base});
  if (!driver::negotiate(t, 0)) return false;
  auto rq = driver::setup_queue(t, arena, 0, 16, driver::RingOptions{});
  if (!rq) return false;
  rq->ring().disable_interrupts();
  if (driver::driver_ok(t) != driver::Error::none) return false;
  const bool got = receive(rq.value(), arena, cycles);
  t.reset();
  return got;
}

}  // namespace

void run_blk_hammer(const Context& ctx) {
  uint64_t iterations = 0;
  Image a;
  Image b;
  uint64_t final_step = 0;
  uint64_t wait_ms = 0;
  if (!ctx.number_in("blk-hammer.iterations", 1000, 1, 10000000, iterations) ||
      !ctx.number("blk-hammer.sectors_a", 0, a.sectors) || !ctx.number("blk-hammer.sectors_b", 0, b.sectors) ||
      !ctx.number_in("blk-hammer.byte_a", 0xa1, 0, 255, a.byte) ||
      !ctx.number_in("blk-hammer.byte_b", 0xb2, 0, 255, b.byte) ||
      !ctx.number_in("blk-hammer.final", 0, 0, 1, final_step) ||
      !ctx.number_in("blk-hammer.wait_ms", 600000, 1, 3600000, wait_ms)) {
    return;
  }
  VirtioMmioDevice where;
  if (!find_virtio_mmio(ctx.cmdline, driver::kDeviceBlock, where)) {
    fail("blk-hammer.found", "no virtio-blk device");
    return;
  }
  pass("blk-hammer.found");
  Mmio t(MmioRegisters{where.base});
  driver::Arena arena = dma_arena();
  Seen seen;
  begin_check("blk-hammer.loop");
  for (uint64_t i = 0; i < iterations; ++i) tally(one_iteration(t, arena), a, b, seen, i);
  t.reset();
  info("blk-hammer.loop-done");
  result("blk-hammer", "iterations=", dec(iterations), " capacity_a=", dec(seen.capacity_a), " capacity_b=",
         dec(seen.capacity_b), " data_a=", dec(seen.data_a), " data_b=", dec(seen.data_b), " bad=", dec(seen.bad));
  check("blk-hammer.loop", seen.bad == 0, "bad=", dec(seen.bad));
  if (final_step == 0) return;

  begin_check("blk-hammer.final");
  const TscFrequency tsc = tsc_frequency(false);
  const uint64_t cycles = (tsc.hz != 0 ? tsc.hz : uint64_t{4000000000}) / 1000 * wait_ms;
  driver::Arena console_arena = arena;
  (void)console_arena.allocate(1 << 20, 4096);  // past the disk's memory
  if (!wait_for_input(ctx, console_arena, cycles)) {
    fail("blk-hammer.final", "no console input (the harness's signal) in time");
    return;
  }
  const Sample s = one_iteration(t, arena);
  t.reset();
  result("blk-hammer.final", "sectors=", dec(s.sectors), " byte=", hex(uint64_t(s.byte < 0 ? 0xffff : s.byte)));
  check("blk-hammer.final", s.ok && s.byte >= 0, "ok=", dec(s.ok ? 1 : 0));
}

}  // namespace kiln::probe
