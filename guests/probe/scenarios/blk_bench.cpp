// probe=blk blk.bench=randread|seqread qd=N count=N bs=N: read throughput of the virtio-blk
// device from ring 3, polling the used ring (interrupts suppressed), `qd` requests in flight,
// `count` in all, `bs` bytes each (randread: uniformly random bs-aligned offsets; seqread: in
// order, wrapping at the end). Timed with the TSC from the first submission to the last
// completion. blk.transport=pci: the first legacy virtio-PCI blk function on bus 0 instead of a
// virtio-mmio device, through its I/O BAR (notify is an OUT to it), MSI-X off and still polled:
// no interrupt in either mode, so the two differ in notify and register access only; its queue
// has the device's size (legacy PCI cannot shrink it; kiln and QEMU: 256). Lines:
//   PROBE result tsc hz= source=
//   PROBE result blk.bench mode= qd= bs= count= cycles= iops= mbps=     (MB = 10^6 bytes)
//   PROBE ok blk.bench                                                  every request answered OK
#include "drivers/virtio/blk.h"
#include "probe/lib/report.h"
#include "probe/lib/tsc.h"
#include "probe/scenarios/blk_common.h"

namespace kiln::probe {
namespace {

namespace blk = driver::blk;

struct Slot {
  driver::BlkRequest req;
  driver::DmaBuffer data;
};

struct SectorSource {
  bool random;
  uint64_t per_request;  // sectors
  uint64_t blocks;       // capacity / per_request
  uint64_t next = 0;
  uint64_t state = 0x9e3779b97f4a7c15ull;

  uint64_t take() {
    if (random) {
      state ^= state << 13;  // xorshift64
      state ^= state >> 7;
      state ^= state << 17;
      return (state % blocks) * per_request;
    }
    const uint64_t s = next * per_request;
    next = next + 1 == blocks ? 0 : next + 1;
    return s;
  }
};

uint16_t ring_size_for(uint64_t qd, bool indirect, uint16_t at_least) {
  const uint64_t need = indirect ? qd : qd * 3;
  uint64_t n = at_least;
  while (n < need) n *= 2;
  return static_cast<uint16_t>(n);
}

// The run on a device brought up by Setup (VirtioSetup or VirtioPciSetup).
template <class Setup>
void bench(const Context& ctx, const BlkParams& p, const TscFrequency& tsc, uint16_t queue_size) {
  driver::Arena arena = dma_arena();
  Setup dev;
  if (!blk_bring_up(ctx, p, arena, dev, queue_size)) return;
  auto& q = dev.queue(0);
  if (q.ring().options().indirect_max == 0 && q.ring().size() < p.qd * 3) {
    fail("blk.bench", "queue size ", dec(q.ring().size()), " too small for qd=", dec(p.qd), " without indirect");
    return;
  }
  const uint64_t capacity = dev.transport().config64(blk::kConfigCapacity);
  SectorSource src{p.bench == "randread", p.bs / blk::kSectorSize, 0};
  src.blocks = capacity / src.per_request;
  if (src.blocks == 0) {
    fail("blk.bench", "capacity ", dec(capacity), " sectors is below one request of ", dec(p.bs), " bytes");
    return;
  }
  Slot* slots = arena.allocate_array<Slot>(p.qd);  // 40 bytes each: not on the 16 KiB stack
  for (uint64_t i = 0; i < p.qd; ++i) {
    auto req = driver::BlkRequest::allocate(arena);
    auto data = arena.allocate(p.bs, 4096);
    if (slots == nullptr || !req || !data) {
      fail("blk.bench", "out of DMA memory at slot ", dec(i));
      return;
    }
    slots[i] = Slot{req.value(), data.value()};
  }

  const auto submit = [&](uint64_t slot) {
    driver::Segment segs[3];
    uint16_t readable = 0;
    uint16_t writable = 0;
    const driver::Segment data{slots[slot].data.phys, static_cast<uint32_t>(p.bs)};
    (void)slots[slot].req.build(blk::kTypeIn, src.take(), &data, 1, segs, readable, writable);
    return q.add(segs, readable, writable, slot).ok();
  };

  begin_check("blk.bench");
  uint64_t submitted = 0;
  uint64_t completed = 0;
  uint64_t errors = 0;
  bool stuck = false;
  const uint64_t start = rdtsc_ordered();
  for (; submitted < p.qd && submitted < p.count; ++submitted) {
    if (!submit(submitted)) break;
  }
  q.kick();
  uint64_t last_progress = start;
  while (completed < p.count && !stuck) {
    bool added = false;
    driver::Completion c;
    driver::Poll r;
    while ((r = q.poll(c)) == driver::Poll::done) {
      ++completed;
      if (slots[c.token].req.status() != blk::kStatusOk) ++errors;
      if (submitted < p.count && submit(c.token)) {
        ++submitted;
        added = true;
      }
    }
    if (r == driver::Poll::bad_id) {
      fail("blk.bench", "the device returned used id ", dec(c.head), " which is not in flight");
      return;
    }
    const uint64_t now = rdtsc_ordered();
    if (added) {
      q.kick();
      last_progress = now;
    } else if (now - last_progress > kWaitCycles) {
      stuck = true;
    } else {
      cpu_relax();
    }
  }
  const uint64_t cycles = rdtsc_ordered() - start;
  if (stuck) {
    fail("blk.bench", "no completion for ", dec(kWaitCycles), " cycles: completed=", dec(completed), " submitted=",
         dec(submitted));
    return;
  }
  if (tsc.hz == 0 || cycles == 0) {
    result("blk.bench", "mode=", p.bench, " qd=", dec(p.qd), " bs=", dec(p.bs), " count=", dec(p.count), " cycles=",
           dec(cycles), " iops=unknown mbps=unknown");
  } else {
    const uint64_t iops = mul_div(p.count, tsc.hz, cycles);
    result("blk.bench", "mode=", p.bench, " qd=", dec(p.qd), " bs=", dec(p.bs), " count=", dec(p.count), " cycles=",
           dec(cycles), " iops=", dec(iops), " mbps=", tenths(iops * p.bs / 100000));
  }
  check("blk.bench", errors == 0, "errors=", dec(errors), " of ", dec(p.count));
  dev.reset("blk.reset");
}

}  // namespace

void run_blk_bench(const Context& ctx, const BlkParams& p) {
  const TscFrequency tsc = tsc_frequency(false);
  if (tsc.hz == 0) {
    result("tsc", "hz=unknown source=none");
  } else {
    result("tsc", "hz=", dec(tsc.hz), " source=", tsc.source);
  }
  if (p.pci) {
    bench<VirtioPciSetup>(ctx, p, tsc, driver::kMaxQueueSize);  // any size the device has
  } else {
    bench<VirtioSetup>(ctx, p, tsc, ring_size_for(p.qd, p.indirect, p.queue_size));
  }
}

}  // namespace kiln::probe
