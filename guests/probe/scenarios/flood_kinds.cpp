#include "probe/scenarios/flood_kinds.h"

#include "drivers/virtio/blk.h"
#include "probe/scenarios/virtio_setup.h"

namespace kiln::probe {
namespace {

using driver::Descriptor;
using driver::kDescNext;
using driver::kDescWrite;

constexpr uint64_t kFarAway = uint64_t{1} << 47;  // far beyond any guest's RAM
constexpr uint16_t kNoNext = 0;

uint16_t next_of(uint16_t d) { return static_cast<uint16_t>(d + 1); }

// --- Shared shapes.
uint16_t bad_head(driver::RawRing&, uint16_t, const FloodScratch&) { return 0xffff; }
uint16_t far_writable(driver::RawRing& r, uint16_t d, const FloodScratch&) {
  r.write_desc(d, Descriptor{kFarAway, 512, kDescWrite, kNoNext});
  return d;
}
uint16_t far_readable(driver::RawRing& r, uint16_t d, const FloodScratch&) {
  r.write_desc(d, Descriptor{kFarAway, 16, 0, kNoNext});
  return d;
}
uint16_t loop_writable(driver::RawRing& r, uint16_t d, const FloodScratch& s) {
  r.write_desc(d, Descriptor{s.buffer, 16, kDescWrite | kDescNext, next_of(d)});
  r.write_desc(next_of(d), Descriptor{s.buffer + 16, 16, kDescWrite | kDescNext, d});
  return d;
}
uint16_t loop_readable(driver::RawRing& r, uint16_t d, const FloodScratch& s) {
  r.write_desc(d, Descriptor{s.buffer, 16, kDescNext, next_of(d)});
  r.write_desc(next_of(d), Descriptor{s.buffer + 16, 16, kDescNext, d});
  return d;
}
uint16_t bad_next(driver::RawRing& r, uint16_t d, const FloodScratch& s) {
  r.write_desc(d, Descriptor{s.buffer, 16, kDescWrite | kDescNext, 0xfff0});
  return d;
}
uint16_t readable_only(driver::RawRing& r, uint16_t d, const FloodScratch& s) {
  r.write_desc(d, Descriptor{s.buffer, 16, 0, kNoNext});
  return d;
}
uint16_t writable_only(driver::RawRing& r, uint16_t d, const FloodScratch& s) {
  r.write_desc(d, Descriptor{s.buffer, 16, kDescWrite, kNoNext});
  return d;
}
uint16_t zero_writable(driver::RawRing& r, uint16_t d, const FloodScratch& s) {
  r.write_desc(d, Descriptor{s.buffer, 0, kDescWrite, kNoNext});
  return d;
}
uint16_t zero_readable(driver::RawRing& r, uint16_t d, const FloodScratch& s) {
  r.write_desc(d, Descriptor{s.buffer, 0, 0, kNoNext});
  return d;
}
uint16_t read_after_write(driver::RawRing& r, uint16_t d, const FloodScratch& s) {
  r.write_desc(d, Descriptor{s.buffer, 16, kDescWrite | kDescNext, next_of(d)});
  r.write_desc(next_of(d), Descriptor{s.buffer + 16, 16, 0, kNoNext});
  return d;
}
uint16_t huge_len(driver::RawRing& r, uint16_t d, const FloodScratch& s) {
  r.write_desc(d, Descriptor{s.buffer, 0xffffffffu, kDescWrite, kNoNext});
  return d;
}

// --- virtio-blk (Appendix D: readable header, data, writable status byte last).
// A header and a status byte, with the header descriptor's address and length given.
uint16_t blk_two(driver::RawRing& r, uint16_t d, uint64_t header, uint32_t len, const FloodScratch& s) {
  r.write_desc(d, Descriptor{header, len, kDescNext, next_of(d)});
  r.write_desc(next_of(d), Descriptor{s.status, 1, kDescWrite, kNoNext});
  return d;
}
uint16_t blk_no_status(driver::RawRing& r, uint16_t d, const FloodScratch& s) {
  r.write_desc(d, Descriptor{s.header_in, 16, 0, kNoNext});
  return d;
}
uint16_t blk_short_header(driver::RawRing& r, uint16_t d, const FloodScratch& s) {
  return blk_two(r, d, s.header_in, 8, s);
}
uint16_t blk_zero_header(driver::RawRing& r, uint16_t d, const FloodScratch& s) {
  return blk_two(r, d, s.header_in, 0, s);
}
uint16_t blk_unknown_type(driver::RawRing& r, uint16_t d, const FloodScratch& s) {
  return blk_two(r, d, s.header_unknown, 16, s);
}
uint16_t blk_far_header(driver::RawRing& r, uint16_t d, const FloodScratch& s) { return blk_two(r, d, kFarAway, 16, s); }
uint16_t blk_beyond(driver::RawRing& r, uint16_t d, const FloodScratch& s) {
  r.write_desc(d, Descriptor{s.header_beyond, 16, kDescNext, next_of(d)});
  r.write_desc(next_of(d), Descriptor{s.buffer, 512, kDescWrite | kDescNext, static_cast<uint16_t>(d + 2)});
  r.write_desc(static_cast<uint16_t>(d + 2), Descriptor{s.status, 1, kDescWrite, kNoNext});
  return d;
}
uint16_t blk_loop(driver::RawRing& r, uint16_t d, const FloodScratch& s) {
  r.write_desc(d, Descriptor{s.header_in, 16, kDescNext, next_of(d)});
  r.write_desc(next_of(d), Descriptor{s.status, 1, kDescWrite | kDescNext, d});
  return d;
}

constexpr FloodKind kRngKinds[] = {
    {"readable_only", true, true, readable_only}, {"out_of_ram", true, true, far_writable},
    {"loop", true, true, loop_writable},          {"zero_len", true, true, zero_writable},
    {"bad_next", true, true, bad_next},           {"bad_head", true, false, bad_head},
    {"read_after_write", true, true, read_after_write}, {"huge_len", true, true, huge_len},
};
constexpr FloodKind kBlkKinds[] = {
    {"no_status", true, true, blk_no_status},       {"short_header", true, true, blk_short_header},
    {"beyond_capacity", true, true, blk_beyond},    {"unknown_type", true, true, blk_unknown_type},
    {"out_of_ram", true, true, blk_far_header},     {"loop", true, true, blk_loop},
    {"zero_len", true, true, blk_zero_header},      {"bad_head", true, false, bad_head},
};
// Transmit: the device only reads, so a writable buffer is a mistake; a zero-length readable
// buffer is merely empty (sent, not an error).
constexpr FloodKind kConsoleTxKinds[] = {
    {"writable", true, true, writable_only}, {"out_of_ram", true, true, far_readable},
    {"loop", true, true, loop_readable},     {"zero_len", false, true, zero_readable},
    {"bad_next", true, true, bad_next},      {"bad_head", true, false, bad_head},
};
// Receive: the device only writes; a zero-length writable buffer is merely empty.
constexpr FloodKind kConsoleRxKinds[] = {
    {"readable", true, true, readable_only}, {"out_of_ram", true, true, far_writable},
    {"loop", true, true, loop_writable},     {"zero_len", false, true, zero_writable},
    {"bad_head", true, false, bad_head},
};

template <uint32_t N>
constexpr FloodKinds kinds_of(const FloodKind (&k)[N]) {
  return FloodKinds{k, N};
}

constexpr FloodDevice kDevices[kFloodDevices] = {
    {driver::kDeviceRng, "flood.rng", "flood.rng.answered", "flood.rng.after", 0, kinds_of(kRngKinds)},
    {driver::kDeviceBlock, "flood.blk", "flood.blk.answered", "flood.blk.after", 0, kinds_of(kBlkKinds)},
    {driver::kDeviceConsole, "flood.console", "flood.console.answered", "flood.console.after",
     driver::console::kTransmitQueue, kinds_of(kConsoleTxKinds)},
};

void put_header(const driver::DmaBuffer& page, uint64_t offset, uint32_t type, uint64_t sector) {
  const driver::blk::RequestHeader h{type, 0, sector};
  __builtin_memcpy(page.host + offset, &h, sizeof(h));
}

}  // namespace

const FloodDevice* flood_devices() { return kDevices; }
FloodKinds console_rx_kinds() { return kinds_of(kConsoleRxKinds); }

driver::Outcome<FloodScratch> make_flood_scratch(driver::Arena& arena) {
  auto page = arena.allocate(4096, 4096);
  if (!page) return page.error();
  put_header(page.value(), 0, driver::blk::kTypeIn, uint64_t{1} << 40);
  put_header(page.value(), 16, 0x40, 0);
  put_header(page.value(), 32, driver::blk::kTypeIn, 0);
  FloodScratch s;
  s.header_beyond = page->phys;
  s.header_unknown = page->phys + 16;
  s.header_in = page->phys + 32;
  s.status = page->phys + 64;
  s.buffer = page->phys + 512;
  return s;
}

bool valid_request(uint32_t device_id, Mmio& t, MmioQueue* queues, driver::Arena& arena) {
  (void)t;
  auto data = arena.allocate(512, 512);
  if (!data) return false;
  driver::Completion c;
  if (device_id == driver::kDeviceBlock) {
    auto req = driver::BlkRequest::allocate(arena);
    if (!req) return false;
    const driver::Segment seg{data->phys, 512};
    auto status = driver::blk_transfer(queues[0], req.value(), driver::blk::kTypeIn, 0, &seg, 1, ProbeWait{}, &c);
    return status.ok() && status.value() == driver::blk::kStatusOk && c.len == 513;
  }
  if (device_id == driver::kDeviceConsole) {
    static constexpr char kLine[] = "flood-console-ok\n";
    __builtin_memcpy(data->host, kLine, sizeof(kLine) - 1);
    const driver::Segment seg{data->phys, sizeof(kLine) - 1};
    MmioQueue& tq = queues[driver::console::kTransmitQueue];
    if (!tq.add(&seg, 1, 0, 1).ok()) return false;
    tq.kick();
    return wait_used(tq, c) == driver::Poll::done;
  }
  const driver::Segment seg{data->phys, 16};
  if (!queues[0].add(&seg, 0, 1, 1).ok()) return false;
  queues[0].kick();
  return wait_used(queues[0], c) == driver::Poll::done && c.len == 16;
}

bool receive(MmioQueue& q, driver::Arena& arena, uint64_t cycles) {
  auto data = arena.allocate(64, 64);
  if (!data) return false;
  const driver::Segment seg{data->phys, 64};
  if (!q.add(&seg, 0, 1, 2).ok()) return false;
  q.kick();
  driver::Completion c;
  return wait_used(q, c, cycles) == driver::Poll::done && c.len > 0;
}

}  // namespace kiln::probe
