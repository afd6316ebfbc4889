// probe=hostile: malformed virtqueues, built on purpose with the driver library's RawRing, handed
// to a virtio-mmio device (hostile.device=rng, or blk). A VMM may answer each one by returning the
// chain used (kiln: length 0), by ignoring it, or by marking the device broken (QEMU); what it
// must not do is die or hang, or leave the device unusable after a reset. Per case:
//   1. bring-up (reset, negotiate INDIRECT_DESC, queue 0, DRIVER_OK)
//   2. the malformed ring, a notify, ~hostile.wait_ms of watching the used ring
//   3. the register file still answers (MagicValue), Status 0 resets the device (Status reads 0)
//   4. a fresh bring-up and one valid request complete (rng: 16 bytes; blk: read sector 0, OK)
// Check hostile.<case> for each; PROBE result hostile.<case> used=N len=L status=S (what the
// device did: used entries returned, the last one's length, Status before the reset).
// Cases: loop (0 -> 1 -> 0), bad_next (next beyond the queue), bad_head (avail entry 0xffff),
// out_of_ram (a buffer at 2^47), huge_len (4 GiB - 1 from a valid address), zero_len,
// nested_indirect, indirect_len (table length 17), runaway_avail (avail idx 1000 ahead).
// Parameters: hostile.device=rng|blk, hostile.cases=<comma list> (default all), hostile.wait_ms=100.
#include "drivers/virtio/blk.h"
#include "probe/lib/report.h"
#include "probe/lib/tsc.h"
#include "probe/scenarios/virtio_setup.h"

namespace kiln::probe {
namespace {

using driver::Descriptor;
using driver::kDescIndirect;
using driver::kDescNext;
using driver::kDescWrite;

constexpr uint64_t kFarAway = uint64_t{1} << 47;

struct Case {
  const char* name;
  void (*build)(driver::RawRing& raw, uint64_t scratch);  // scratch: 4 KiB of valid DMA memory
};

void build_loop(driver::RawRing& r, uint64_t s) {
  r.write_desc(0, Descriptor{s, 16, kDescNext | kDescWrite, 1});
  r.write_desc(1, Descriptor{s + 16, 16, kDescNext | kDescWrite, 0});
  r.push_avail(0);
}
void build_bad_next(driver::RawRing& r, uint64_t s) {
  r.write_desc(0, Descriptor{s, 16, kDescNext | kDescWrite, 0xfff0});
  r.push_avail(0);
}
void build_bad_head(driver::RawRing& r, uint64_t s) {
  r.write_desc(0, Descriptor{s, 16, kDescWrite, 0});
  r.push_avail(0xffff);
}
void build_out_of_ram(driver::RawRing& r, uint64_t) {
  r.write_desc(0, Descriptor{kFarAway, 512, kDescWrite, 0});
  r.push_avail(0);
}
void build_huge_len(driver::RawRing& r, uint64_t s) {
  r.write_desc(0, Descriptor{s, 0xffffffffu, kDescWrite, 0});
  r.push_avail(0);
}
void build_zero_len(driver::RawRing& r, uint64_t s) {
  r.write_desc(0, Descriptor{s, 0, kDescWrite, 0});
  r.push_avail(0);
}
void build_nested_indirect(driver::RawRing& r, uint64_t s) {
  (void)r.write_desc_at(s + 1024, 0, Descriptor{s + 2048, 16, kDescIndirect, 0});
  (void)r.write_desc_at(s + 2048, 0, Descriptor{s, 16, kDescWrite, 0});
  r.write_desc(0, Descriptor{s + 1024, 16, kDescIndirect, 0});
  r.push_avail(0);
}
void build_indirect_len(driver::RawRing& r, uint64_t s) {
  (void)r.write_desc_at(s + 1024, 0, Descriptor{s, 16, kDescWrite, 0});
  r.write_desc(0, Descriptor{s + 1024, 17, kDescIndirect, 0});
  r.push_avail(0);
}
void build_runaway_avail(driver::RawRing& r, uint64_t s) {
  r.write_desc(0, Descriptor{s, 16, kDescWrite, 0});
  r.set_avail_entry(0, 0);
  r.publish_avail_idx(1000);
}

constexpr Case kCases[] = {
    {"loop", build_loop},           {"bad_next", build_bad_next},
    {"bad_head", build_bad_head},   {"out_of_ram", build_out_of_ram},
    {"huge_len", build_huge_len},   {"zero_len", build_zero_len},
    {"nested_indirect", build_nested_indirect}, {"indirect_len", build_indirect_len},
    {"runaway_avail", build_runaway_avail},
};

struct Target {
  VirtioMmioDevice where;
  uint32_t device_id;
  uint64_t wait_cycles;
};

// Reset, negotiate, queue 0, DRIVER_OK, silently; the queue refers to `t`.
bool bring_up(Mmio& t, driver::Arena& arena, MmioQueue& q) {
  auto f = driver::negotiate(t, driver::bit(driver::kFeatureIndirectDesc));
  if (!f) return false;
  auto queue = driver::setup_queue(t, arena, 0, 16, driver::ring_options(f.value(), 4));
  if (!queue) return false;
  q = queue.value();
  q.ring().disable_interrupts();
  return driver::driver_ok(t) == driver::Error::none;
}

// One valid request on a freshly set-up queue; true if it completes (blk: with status OK).
bool valid_request(const Target& target, Mmio& t, MmioQueue& q, driver::Arena& arena) {
  auto data = arena.allocate(512, 512);
  if (!data) return false;
  driver::Completion c;
  if (target.device_id == driver::kDeviceBlock) {
    auto req = driver::BlkRequest::allocate(arena);
    if (!req) return false;
    const driver::Segment seg{data->phys, 512};
    auto status = driver::blk_transfer(q, req.value(), driver::blk::kTypeIn, 0, &seg, 1, ProbeWait{}, &c);
    return status.ok() && status.value() == driver::blk::kStatusOk;
  }
  (void)t;
  const driver::Segment seg{data->phys, 16};
  if (!q.add(&seg, 0, 1, 1).ok()) return false;
  q.kick();
  return wait_used(q, c) == driver::Poll::done && c.len > 0;
}

void run_case(const Target& target, const Case& k, driver::Arena& arena) {
  char name[40] = "hostile.";
  size_t n = 8;
  for (const char* p = k.name; *p != '\0' && n < sizeof(name) - 1; ++p) name[n++] = *p;
  const Text check_name{name, n};
  begin_check(check_name);
  arena.reset();
  Mmio t(MmioRegisters{target.where.base});
  MmioQueue q;
  auto scratch = arena.allocate(4096, 4096);
  if (!scratch || !bring_up(t, arena, q)) {
    fail(check_name, "bring-up failed before the malformed ring");
    return;
  }
  driver::RawRing& raw = q.ring().raw();
  k.build(raw, scratch->phys);
  t.notify(0);
  const uint64_t start = rdtsc_ordered();
  while (rdtsc_ordered() - start < target.wait_cycles) cpu_relax();
  const uint16_t used = raw.used_idx();
  const uint32_t len = used != 0 ? raw.used_entry(static_cast<uint16_t>(used - 1)).len : 0;
  const uint8_t status = t.status();
  result(check_name, "used=", dec(used), " len=", dec(len), " status=", hex(status));

  const uint32_t magic = t.regs().read32(driver::mmio::kMagicValue);
  t.reset();
  const uint8_t after_reset = t.status();
  arena.reset();
  const bool recovered = bring_up(t, arena, q) && valid_request(target, t, q, arena);
  t.reset();
  check(check_name, magic == driver::mmio::kMagic && after_reset == 0 && recovered, "magic=", hex(magic),
        " status_after_reset=", hex(after_reset), " recovered=", dec(recovered ? 1 : 0));
}

}  // namespace

void run_hostile(const Context& ctx) {
  const Text device = ctx.text("hostile.device", "rng");
  const Text cases = ctx.text("hostile.cases", Text{});
  uint64_t wait_ms = 0;
  if (!ctx.number_in("hostile.wait_ms", 100, 1, 10000, wait_ms)) return;
  Target target{};
  if (device == "rng") {
    target.device_id = driver::kDeviceRng;
  } else if (device == "blk") {
    target.device_id = driver::kDeviceBlock;
  } else {
    fail("params", "hostile.device=", device, " is not rng or blk");
    return;
  }
  if (!find_virtio_mmio(ctx.cmdline, target.device_id, target.where)) {
    fail("hostile.found", "no virtio-mmio device with ID ", dec(target.device_id));
    return;
  }
  pass("hostile.found");
  const TscFrequency tsc = tsc_frequency(false);
  target.wait_cycles = (tsc.hz != 0 ? tsc.hz : uint64_t{4000000000}) / 1000 * wait_ms;
  driver::Arena arena = dma_arena();
  for (const Case& k : kCases) {
    if (cases.empty() || list_contains(cases, Text{k.name})) run_case(target, k, arena);
  }
}

}  // namespace kiln::probe
