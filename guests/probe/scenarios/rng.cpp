// probe=rng: virtio-rng (device ID 4, one request queue) through the driver library. Posts
// rng.buffers device-writable buffers of rng.bytes bytes, rng.rounds times, and checks:
//   rng.found, rng.negotiate, rng.queue, rng.driver_ok   bring-up (virtio_setup.h)
//   rng.used_len   every buffer came back with 0 < len <= its size
//   rng.nonzero    no returned buffer of 8 bytes or more is all zero
//   rng.differ     the first two buffers differ (compared over the shorter length, >= 8 bytes)
//   rng.reset      Status 0 resets the device
// Lines: PROBE result rng.bytes total=N requests=M.
// Parameters: rng.rounds=4 (1..64), rng.buffers=2 (2..16), rng.bytes=64 (8..4096).
#include "probe/lib/report.h"
#include "probe/scenarios/virtio_setup.h"

namespace kiln::probe {
namespace {

bool all_zero(const uint8_t* p, uint32_t n) {
  for (uint32_t i = 0; i < n; ++i) {
    if (p[i] != 0) return false;
  }
  return true;
}

}  // namespace

void run_rng(const Context& ctx) {
  uint64_t rounds = 0;
  uint64_t buffers = 0;
  uint64_t bytes = 0;
  if (!ctx.number_in("rng.rounds", 4, 1, 64, rounds) || !ctx.number_in("rng.buffers", 2, 2, 16, buffers) ||
      !ctx.number_in("rng.bytes", 64, 8, 4096, bytes)) {
    return;
  }
  driver::Arena arena = dma_arena();
  VirtioSetup dev;
  VirtioSetupParams s;
  s.scenario = "rng";
  s.device_id = driver::kDeviceRng;
  if (!dev.bring_up(ctx, s, arena)) return;
  const uint64_t total_buffers = rounds * buffers;
  auto area = arena.allocate(total_buffers * bytes, 64);
  uint32_t* lens = arena.allocate_array<uint32_t>(total_buffers);
  if (!area || lens == nullptr) {
    fail("rng.arena", "out of DMA memory");
    return;
  }
  MmioQueue& q = dev.queue(0);
  begin_check("rng.used_len");
  uint64_t total = 0;
  bool lens_ok = true;
  for (uint64_t r = 0; r < rounds; ++r) {
    for (uint64_t b = 0; b < buffers; ++b) {
      const uint64_t i = r * buffers + b;
      const driver::Segment seg{area->phys + i * bytes, static_cast<uint32_t>(bytes)};
      if (!q.add(&seg, 0, 1, i).ok()) {
        fail("rng.used_len", "could not add buffer ", dec(i));
        return;
      }
    }
    q.kick();
    for (uint64_t b = 0; b < buffers; ++b) {
      driver::Completion c;
      const driver::Poll p = wait_used(q, c);
      if (p != driver::Poll::done) {
        fail("rng.used_len", p == driver::Poll::empty ? "no completion in time" : "bad used id ", dec(c.head));
        return;
      }
      lens[c.token] = c.len;
      total += c.len;
      if (c.len == 0 || c.len > bytes) lens_ok = false;
    }
  }
  result("rng.bytes", "total=", dec(total), " requests=", dec(total_buffers));
  check("rng.used_len", lens_ok, "a buffer came back empty or longer than offered");

  bool nonzero = true;
  uint64_t zero_at = 0;
  for (uint64_t i = 0; i < total_buffers && nonzero; ++i) {
    if (lens[i] >= 8 && lens[i] <= bytes && all_zero(area->host + i * bytes, lens[i])) {
      nonzero = false;
      zero_at = i;
    }
  }
  check("rng.nonzero", nonzero, "buffer ", dec(zero_at), " is all zero");

  const uint32_t n = lens[0] < lens[1] ? lens[0] : lens[1];
  bool differ = false;
  for (uint32_t i = 0; i < n && i < bytes; ++i) differ = differ || area->host[i] != area->host[bytes + i];
  check("rng.differ", n >= 8 && differ, "compared ", dec(n), " bytes");
  dev.reset("rng.reset");
}

}  // namespace kiln::probe
