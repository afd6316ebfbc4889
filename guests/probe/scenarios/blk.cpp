// probe=blk: virtio-blk (virtio 0.9.5, Appendix D) driven through the driver library
// (drivers/virtio) on the first virtio-mmio device with ID 2. Checks, in order:
//   blk.found, blk.negotiate, blk.queue, blk.driver_ok   bring-up (virtio_setup.h)
//   blk.capacity        config capacity > 0 (= expect_sectors if given); PROBE result blk.capacity
//   blk.ro_feature      VIRTIO_BLK_F_RO offered iff readonly=1
//   writable disk:
//     blk.write           sectors S..S+7 written from two 2 KiB segments (indirect if negotiated)
//     blk.write_single    sector S+8 written through a direct chain
//     blk.read            S..S+8 read back through a direct chain of three data segments, compared
//     blk.used_len        the read's used length is data + status byte (4609)
//     blk.read_indirect   the same read through an indirect table (skipped without INDIRECT_DESC)
//   readonly=1:
//     blk.write_rejected  a write to S answers IOERR and S reads the same before and after
//   blk.flush           VIRTIO_BLK_T_FLUSH answers OK (skipped without VIRTIO_BLK_F_FLUSH)
//   blk.get_id          VIRTIO_BLK_T_GET_ID answers OK, 20 bytes (= expect_serial if given);
//                       PROBE result blk.serial id=
//   blk.unsupported     request type unsupp_type answers UNSUPP (2)
//   blk.beyond_capacity a read at sector = capacity, and one straddling the end, answer IOERR (1)
//   blk.reset           Status 0 resets the device
// Parameters: blk.readonly=0, blk.expect_sectors=0 (0: any), blk.expect_serial= (none: any),
// blk.sector=0 (S, first sector written), blk.indirect=1, blk.event_idx=1, blk.queue_size=128,
// blk.unsupp_type=0x40; blk.bench=randread|seqread switches to the throughput run (blk_bench.cpp).
#include "drivers/virtio/blk.h"
#include "probe/lib/report.h"
#include "probe/scenarios/blk_common.h"
#include "probe/scenarios/virtio_setup.h"

namespace kiln::probe {
namespace {

namespace blk = driver::blk;
using driver::Segment;

constexpr uint32_t kSector = blk::kSectorSize;
constexpr uint32_t kSpan = 9 * kSector;  // sectors S..S+8

uint8_t pattern(uint64_t sector, uint32_t offset, uint8_t seed) {
  return static_cast<uint8_t>(sector * 131 + offset * 7 + seed);
}

struct Blk {
  VirtioSetup dev;
  driver::BlkRequest req;
  driver::DmaBuffer out;  // data written
  driver::DmaBuffer in;   // data read
  driver::Completion last;

  driver::Outcome<uint8_t> transfer(uint32_t type, uint64_t sector, const Segment* data, uint16_t n,
                                    driver::IndirectPolicy policy = driver::IndirectPolicy::multi_segment) {
    dev.queue(0).ring().set_indirect_policy(policy);
    return driver::blk_transfer(dev.queue(0), req, type, sector, data, n, ProbeWait{}, &last);
  }
};

// check(name) on an answer that must be `want`.
bool expect_status(Text name, const driver::Outcome<uint8_t>& r, uint8_t want) {
  if (!r) return check(name, false, "error=", driver::error_name(r.error()));
  return check(name, r.value() == want, "status=", dec(r.value()), " expected=", dec(want));
}

// Checks `name`: the read answered OK and b.in equals b.out over kSpan bytes. Returns whether the
// read answered OK (whatever the data).
bool compare_read(Blk& b, Text name, const driver::Outcome<uint8_t>& r) {
  if (!r.ok() || r.value() != blk::kStatusOk) {
    expect_status(name, r, blk::kStatusOk);
    return false;
  }
  for (uint32_t i = 0; i < kSpan; ++i) {
    if (b.in.host[i] != b.out.host[i]) {
      fail(name, "byte=", dec(i), " read=", hex(b.in.host[i]), " written=", hex(b.out.host[i]));
      return true;
    }
  }
  pass(name);
  return true;
}

void read_write_checks(Blk& b, uint64_t s, uint8_t seed) {
  for (uint32_t i = 0; i < kSpan; ++i) b.out.host[i] = pattern(s + i / kSector, i % kSector, seed);
  const Segment two[] = {{b.out.phys, 2048}, {b.out.phys + 2048, 2048}};
  begin_check("blk.write");
  expect_status("blk.write", b.transfer(blk::kTypeOut, s, two, 2), blk::kStatusOk);
  const Segment one[] = {{b.out.phys + 4096, kSector}};
  begin_check("blk.write_single");
  expect_status("blk.write_single", b.transfer(blk::kTypeOut, s + 8, one, 1, driver::IndirectPolicy::never),
                blk::kStatusOk);

  // Three data segments of 512, 1024 and 3072 bytes: a five-descriptor direct chain.
  const Segment three[] = {{b.in.phys, 512}, {b.in.phys + 512, 1024}, {b.in.phys + 1536, 3072}};
  for (uint32_t i = 0; i < kSpan; ++i) b.in.host[i] = 0;
  begin_check("blk.read");
  if (compare_read(b, "blk.read", b.transfer(blk::kTypeIn, s, three, 3, driver::IndirectPolicy::never))) {
    check("blk.used_len", b.last.len == kSpan + 1, "len=", dec(b.last.len), " expected=", dec(kSpan + 1));
  }

  if (b.dev.queue(0).ring().options().indirect_max == 0) {
    info("blk.read_indirect skipped: VIRTIO_RING_F_INDIRECT_DESC not negotiated");
    return;
  }
  for (uint32_t i = 0; i < kSpan; ++i) b.in.host[i] = 0;
  begin_check("blk.read_indirect");
  (void)compare_read(b, "blk.read_indirect", b.transfer(blk::kTypeIn, s, three, 3, driver::IndirectPolicy::always));
}

void readonly_checks(Blk& b, uint64_t s) {
  const Segment in_one[] = {{b.in.phys, kSector}};
  const Segment out_one[] = {{b.out.phys, kSector}};
  begin_check("blk.write_rejected");
  const auto before = b.transfer(blk::kTypeIn, s, in_one, 1);
  for (uint32_t i = 0; i < kSector; ++i) b.out.host[i] = static_cast<uint8_t>(~b.in.host[i]);
  const auto write = b.transfer(blk::kTypeOut, s, out_one, 1);
  bool unchanged = before.ok() && before.value() == blk::kStatusOk;
  if (unchanged) {
    for (uint32_t i = 0; i < kSector; ++i) b.out.host[i] = b.in.host[i];  // keep the old bytes
    const auto after = b.transfer(blk::kTypeIn, s, in_one, 1);
    unchanged = after.ok() && after.value() == blk::kStatusOk;
    for (uint32_t i = 0; i < kSector && unchanged; ++i) unchanged = b.in.host[i] == b.out.host[i];
  }
  const bool ioerr = write.ok() && write.value() == blk::kStatusIoErr;
  check("blk.write_rejected", ioerr && unchanged, "write_status=", dec(write.ok() ? write.value() : 255),
        " data_unchanged=", dec(unchanged ? 1 : 0));
}

}  // namespace

void run_blk(const Context& ctx) {
  BlkParams p;
  if (!read_blk_params(ctx, p)) return;
  if (!p.bench.empty()) {
    run_blk_bench(ctx, p);
    return;
  }
  driver::Arena arena = dma_arena();
  Blk b;
  if (!blk_bring_up(ctx, p, arena, b.dev, p.queue_size)) return;
  auto req = driver::BlkRequest::allocate(arena);
  auto out = arena.allocate(kSpan, 4096);
  auto in = arena.allocate(kSpan, 4096);
  if (!req || !out || !in) {
    fail("blk.arena", "out of DMA memory");
    return;
  }
  b.req = req.value();
  b.out = out.value();
  b.in = in.value();

  const uint64_t capacity = b.dev.transport().config64(blk::kConfigCapacity);
  result("blk.capacity", "sectors=", dec(capacity));
  check("blk.capacity", capacity > 0 && (p.expect_sectors == 0 || capacity == p.expect_sectors), "sectors=",
        dec(capacity), " expected=", dec(p.expect_sectors));
  const bool ro = (b.dev.offered() & driver::bit(blk::kFeatureReadOnly)) != 0;
  check("blk.ro_feature", ro == p.readonly, "offered=", dec(ro ? 1 : 0), " readonly=", dec(p.readonly ? 1 : 0));
  if (capacity < p.sector + 9) {
    fail("blk.sector", "sector=", dec(p.sector), " needs 9 sectors, capacity=", dec(capacity));
  } else if (p.readonly) {
    readonly_checks(b, p.sector);
  } else {
    read_write_checks(b, p.sector, static_cast<uint8_t>(rdtsc_ordered() | 1));
  }

  if ((b.dev.accepted() & driver::bit(blk::kFeatureFlush)) != 0) {
    begin_check("blk.flush");
    expect_status("blk.flush", b.transfer(blk::kTypeFlush, 0, nullptr, 0), blk::kStatusOk);
  } else {
    info("blk.flush skipped: VIRTIO_BLK_F_FLUSH not offered");
  }

  const Segment id[] = {{b.in.phys, blk::kIdBytes}};
  for (uint32_t i = 0; i <= blk::kIdBytes; ++i) b.in.host[i] = 0;
  begin_check("blk.get_id");
  const auto got = b.transfer(blk::kTypeGetId, 0, id, 1);
  const Text serial{reinterpret_cast<const char*>(b.in.host), guest::bounded_length(
                                                                  reinterpret_cast<const char*>(b.in.host), blk::kIdBytes)};
  if (got.ok() && got.value() == blk::kStatusOk) {
    result("blk.serial", "id=", serial);
    check("blk.get_id", p.expect_serial.empty() || serial == p.expect_serial, "id=", serial, " expected=",
          p.expect_serial);
  } else {
    expect_status("blk.get_id", got, blk::kStatusOk);
  }

  const Segment one[] = {{b.in.phys, kSector}};
  begin_check("blk.unsupported");
  expect_status("blk.unsupported", b.transfer(static_cast<uint32_t>(p.unsupp_type), 0, one, 1),
                blk::kStatusUnsupported);

  begin_check("blk.beyond_capacity");
  const auto at_end = b.transfer(blk::kTypeIn, capacity, one, 1);
  const Segment two[] = {{b.in.phys, 2 * kSector}};
  const auto straddle = b.transfer(blk::kTypeIn, capacity - 1, two, 1);
  check("blk.beyond_capacity",
        at_end.ok() && at_end.value() == blk::kStatusIoErr && straddle.ok() && straddle.value() == blk::kStatusIoErr,
        "at_end=", dec(at_end.ok() ? at_end.value() : 255), " straddle=", dec(straddle.ok() ? straddle.value() : 255));

  b.dev.reset("blk.reset");
}

}  // namespace kiln::probe
