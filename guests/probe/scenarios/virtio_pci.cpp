// probe=virtio-pci: legacy virtio-PCI devices (virtio 0.9.5, 2.1 and 2.2.2) on bus 0, through the
// driver library's LegacyPci over I/O BAR 0. For each function with vendor 0x1af4 and device
// 0x1000..0x103f (their BARs assigned by kiln with --transport pci, or by QEMU -M pc's firmware):
//   virtio-pci.bar0      BAR 0 is an I/O BAR (I/O decode and bus mastering then enabled)
//   virtio-pci.header    Status 0 after reset, ACKNOWLEDGE+DRIVER read back, queue 0 has a
//                        power-of-two size and address 0
//   virtio-pci.request   rng (ID 4): a 16-byte buffer comes back filled; blk (ID 2): sector 0
//                        reads with status OK; other devices: skipped (info line)
//   virtio-pci.reset     Status 0 resets the device (Status and queue 0's address read 0)
// Lines: PROBE info virtio-pci device= function= id= io= features= queue0=; PROBE result
// virtio-pci devices=N. Parameters: virtio-pci.expect=N (fail virtio-pci.count unless N found;
// default: any number, at least one); virtio-pci.rounds=N (each request N times on the same queue,
// default 1: long enough to snapshot a run in the middle).
#include "drivers/virtio/blk.h"
#include "probe/lib/pci.h"
#include "probe/lib/report.h"
#include "probe/scenarios/virtio_setup.h"

namespace kiln::probe {
namespace {

using Pci = driver::LegacyPci<PortRegisters>;
using PciQueue = driver::Queue<Pci>;

constexpr uint32_t kPciCommand = 0x04;
constexpr uint32_t kCommandIo = 1;
constexpr uint32_t kCommandMaster = 4;
constexpr uint32_t kPciBar0 = 0x10;
constexpr uint32_t kPciSubsystem = 0x2c;  // subsystem vendor (low 16) and ID (high 16)

bool one_request(PciQueue& q, Pci& t, uint32_t id, const driver::DmaBuffer& data, driver::BlkRequest& req) {
  driver::Completion c;
  if (id == driver::kDeviceBlock) {
    const driver::Segment seg{data.phys, 512};
    auto status = driver::blk_transfer(q, req, driver::blk::kTypeIn, 0, &seg, 1, ProbeWait{}, &c);
    return status.ok() && status.value() == driver::blk::kStatusOk && t.config64(0) != 0;
  }
  for (uint32_t i = 0; i < 16; ++i) data.host[i] = 0;
  const driver::Segment seg{data.phys, 16};
  if (!q.add(&seg, 0, 1, 7).ok()) return false;
  q.kick();
  if (wait_used(q, c) != driver::Poll::done || c.token != 7 || c.len == 0 || c.len > 16) return false;
  for (uint32_t i = 0; i < c.len; ++i) {
    if (data.host[i] != 0) return true;
  }
  return false;  // all zero
}

bool run_request(Pci& t, uint32_t id, driver::Arena& arena, uint64_t rounds) {
  auto accepted = driver::negotiate(t, driver::bit(driver::kFeatureIndirectDesc) | driver::bit(driver::kFeatureEventIdx));
  if (!accepted) return false;
  auto q = driver::setup_queue(t, arena, 0, driver::kMaxQueueSize, driver::ring_options(accepted.value(), 4));
  if (!q || driver::driver_ok(t) != driver::Error::none) return false;
  q->ring().disable_interrupts();
  auto data = arena.allocate(512, 512);
  if (!data) return false;
  auto req = driver::BlkRequest::allocate(arena);
  if (!req) return false;
  for (uint64_t r = 0; r < rounds; ++r) {
    if (!one_request(q.value(), t, id, data.value(), req.value())) {
      info("virtio-pci request failed in round ", dec(r));
      return false;
    }
  }
  if (id == driver::kDeviceBlock) info("virtio-pci blk capacity=", dec(t.config64(0)), " rounds=", dec(rounds));
  return true;
}

void check_function(const PciFunction& fn, driver::Arena& arena, uint64_t rounds) {
  const uint32_t subsystem = pci_config_read32(0, fn.device, fn.function, kPciSubsystem);
  const uint32_t id = subsystem >> 16;
  const uint32_t bar0 = pci_config_read32(0, fn.device, fn.function, kPciBar0);
  const bool io = (bar0 & 1) != 0 && (bar0 & ~3u) != 0 && (bar0 & ~3u) <= 0xffff;
  if (!check("virtio-pci.bar0", io, "device=", dec(fn.device), " bar0=", hex(bar0))) return;
  const uint32_t command = pci_config_read32(0, fn.device, fn.function, kPciCommand) & 0xffff;
  pci_config_write32(0, fn.device, fn.function, kPciCommand, command | kCommandIo | kCommandMaster);
  Pci t(PortRegisters{static_cast<uint16_t>(bar0 & ~3u)});

  begin_check("virtio-pci.header");
  t.reset();
  const uint8_t reset = t.status();
  t.set_status(driver::kStatusAcknowledge | driver::kStatusDriver);
  const uint8_t driver_status = t.status();
  const uint64_t features = t.host_features();
  const uint16_t size = t.queue_max(0);
  const uint32_t pfn = t.queue_pfn(0);
  info("virtio-pci device=", dec(fn.device), " function=", dec(fn.function), " id=", dec(id), " io=",
       hex(bar0 & ~3u), " features=", hex(features), " queue0=", dec(size));
  check("virtio-pci.header", reset == 0 && driver_status == 3 && driver::is_power_of_two(size) && pfn == 0,
        "status_after_reset=", hex(reset), " status=", hex(driver_status), " queue0=", dec(size), " pfn=", hex(pfn));

  if (id == driver::kDeviceRng || id == driver::kDeviceBlock) {
    begin_check("virtio-pci.request");
    check("virtio-pci.request", run_request(t, id, arena, rounds), "device=", dec(fn.device), " id=", dec(id));
  } else {
    info("virtio-pci.request skipped for device ID ", dec(id));
  }
  begin_check("virtio-pci.reset");
  t.reset();
  const uint8_t after = t.status();
  const uint32_t pfn_after = t.queue_pfn(0);
  check("virtio-pci.reset", after == 0 && pfn_after == 0, "status=", hex(after), " pfn=", hex(pfn_after));
}

}  // namespace

void run_virtio_pci(const Context& ctx) {
  uint64_t expect = 0;
  uint64_t rounds = 1;
  if (!ctx.number("virtio-pci.expect", 0, expect) || !ctx.number("virtio-pci.rounds", 1, rounds)) return;
  driver::Arena arena = dma_arena();
  uint32_t found = 0;
  (void)pci_scan_bus(0, [&](const PciFunction& fn) {
    if (fn.vendor_id != driver::pci::kVendorId || fn.device_id < driver::pci::kFirstDeviceId ||
        fn.device_id > driver::pci::kLastDeviceId) {
      return;
    }
    ++found;
    arena.reset();  // the previous device was reset: its rings are free again
    check_function(fn, arena, rounds);
  });
  result("virtio-pci", "devices=", dec(found));
  check("virtio-pci.count", expect == 0 ? found > 0 : found == expect, "found=", dec(found), " expected=",
        expect == 0 ? Text{"at least 1"} : Text{"virtio-pci.expect"});
}

}  // namespace kiln::probe
