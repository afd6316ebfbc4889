// probe=pci-msix: MSI-X on legacy virtio-PCI functions (virtio 0.9.5 2.2.2 "Configuration/Queue
// Vectors", PCI Local Bus 3.0 6.8.2), interrupts counted by the probe's LAPIC path (ring0.S
// counts every vector and EOIs it). For each blk and rng function on bus 0:
//   pci-msix.capability  the capability list holds MSI-X (ID 0x11) with at least 2 vectors, its
//                        table and PBA in an assigned memory BAR below 4 GiB, every vector masked
//   pci-msix.vectors     MSI-X enabled: the configuration and queue 0 vectors read back as
//                        written, a vector beyond the table reads back NO_VECTOR (0xffff), and
//                        the device configuration moved to 24 (blk: the capacity read at 20
//                        before reads the same at 24)
//   pci-msix.interrupt   a request on queue 0 (blk: sector 0; rng: 16 bytes) raises the queue's
//                        vector and not the configuration vector (pci-msix.rounds=N times, default
//                        1: long enough to snapshot a run in the middle)
//   pci-msix.mask        queue 0's vector masked: the request completes without an interrupt and
//                        its PBA bit is set; unmasked: the interrupt arrives, the bit is clear
//   pci-msix.intx        MSI-X off again: config back at 20, a request sets ISR bit 0 and PCI
//                        Status bit 3 (Interrupt Status) and no MSI vector arrives
// Lines: PROBE info pci-msix device= id= vectors= table= pba=; PROBE result pci-msix devices=N
// (the functions with MSI-X, which are checked; others get an info line).
// Parameters: pci-msix.expect=N (fail pci-msix.count unless N functions were checked);
// pci-msix.rounds=N (see pci-msix.interrupt).
#include "drivers/virtio/blk.h"
#include "probe/lib/cpu.h"
#include "probe/lib/lapic.h"
#include "probe/lib/pci.h"
#include "probe/lib/report.h"
#include "probe/scenarios/virtio_setup.h"
#include "probe/start/ring0.h"

namespace kiln::probe {
namespace {

using Pci = driver::LegacyPci<PortRegisters>;
using PciQueue = driver::Queue<Pci>;

constexpr uint32_t kCommand = 0x04;  // Command (low 16) and Status (high 16)
constexpr uint32_t kCommandIo = 1, kCommandMemory = 2, kCommandMaster = 4, kCommandIntxDisable = 1 << 10;
constexpr uint32_t kStatusInterrupt = 1 << 3, kStatusCapList = 1 << 4;
constexpr uint32_t kBar0 = 0x10, kSubsystem = 0x2c, kCapPointer = 0x34;
constexpr uint8_t kCapMsix = 0x11;
constexpr uint32_t kMsixEnable = 1u << 31, kMsixFunctionMask = 1u << 30;  // in the capability's first DWORD
constexpr uint64_t kMsiAddress = 0xfee00000;  // LAPIC ID 0, fixed delivery (Intel SDM 10.11.1)
constexpr uint8_t kFirstVector = 0x50;
// How long to wait for an interrupt that must come (as long as for a completion), and for one that
// must not (a device raises its interrupt right after the used ring, so a short look suffices).
constexpr uint64_t kComeCycles = kWaitCycles;
constexpr uint64_t kQuietCycles = kWaitCycles / 200;

struct Function {
  uint8_t device = 0;
  uint32_t cap = 0;
  uint32_t vectors = 0;
  uint64_t table = 0;
  uint64_t pba = 0;
  [[nodiscard]] uint32_t read(uint32_t reg) const { return pci_config_read32(0, device, 0, reg); }
  void write(uint32_t reg, uint32_t v) const { pci_config_write32(0, device, 0, reg, v); }
  void set_msix(uint32_t bits) const { write(cap, (read(cap) & ~(kMsixEnable | kMsixFunctionMask)) | bits); }
  void entry(uint32_t v, uint32_t data, bool masked) const {
    const uint64_t e = table + 16 * v;
    mmio_write32(e, static_cast<uint32_t>(kMsiAddress));
    mmio_write32(e + 4, 0);
    mmio_write32(e + 8, data);
    mmio_write32(e + 12, masked ? 1 : 0);
  }
  void mask(uint32_t v, bool masked) const { mmio_write32(table + 16 * v + 12, masked ? 1 : 0); }
  [[nodiscard]] bool pending(uint32_t v) const { return (mmio_read32(pba + 4 * (v / 32)) >> (v % 32) & 1) != 0; }
};

uint32_t count(uint8_t vector) { return probe_interrupt_counts[vector]; }

// Interrupts on until `vector`'s count passes `before` or `cycles` TSC cycles passed.
bool wait_vector(uint8_t vector, uint32_t before, uint64_t cycles = kComeCycles) {
  const uint64_t start = rdtsc_ordered();
  interrupts_on();
  while (count(vector) == before && rdtsc_ordered() - start < cycles) cpu_relax();
  interrupts_off();
  return count(vector) != before;
}

// Finds MSI-X in the capability list and where its table and PBA are.
bool find_msix(Function& f) {
  if ((f.read(kCommand) >> 16 & kStatusCapList) == 0) return false;
  uint32_t at = f.read(kCapPointer) & 0xfc;
  for (int hops = 0; at >= 0x40 && hops < 48; ++hops) {
    const uint32_t head = f.read(at);
    if ((head & 0xff) == kCapMsix) {
      f.cap = at;
      f.vectors = (head >> 16 & 0x7ff) + 1;
      const uint32_t table = f.read(at + 4);
      const uint32_t pba = f.read(at + 8);
      auto bar = [&](uint32_t bir) -> uint64_t {
        if (bir > 5) return 0;
        const uint32_t lo = f.read(kBar0 + 4 * bir);
        if ((lo & 1) != 0) return 0;  // an I/O BAR cannot hold the table
        const uint64_t hi = (lo & 6) == 4 && bir < 5 ? f.read(kBar0 + 4 * (bir + 1)) : 0;
        return hi != 0 ? 0 : lo & ~0xfu;  // the probe's identity map ends at 4 GiB
      };
      const uint64_t table_bar = bar(table & 7);
      const uint64_t pba_bar = bar(pba & 7);
      if (table_bar == 0 || pba_bar == 0) return false;
      f.table = table_bar + (table & ~7u);
      f.pba = pba_bar + (pba & ~7u);
      return true;
    }
    at = head >> 8 & 0xfc;
  }
  return false;
}

bool one_request(PciQueue& q, Pci& t, uint32_t id, const driver::DmaBuffer& data, driver::BlkRequest& req) {
  driver::Completion c;
  if (id == driver::kDeviceBlock) {
    const driver::Segment seg{data.phys, 512};
    auto status = driver::blk_transfer(q, req, driver::blk::kTypeIn, 0, &seg, 1, ProbeWait{}, &c);
    return status.ok() && status.value() == driver::blk::kStatusOk;
  }
  (void)t;
  const driver::Segment seg{data.phys, 16};
  if (!q.add(&seg, 0, 1, 7).ok()) return false;
  q.kick();
  return wait_used(q, c) == driver::Poll::done && c.token == 7 && c.len > 0;
}

// Checks one function that has an MSI-X capability.
void check_function(Function& f, driver::Arena& arena, uint8_t config_vector, uint8_t queue_vector, uint64_t rounds) {
  const uint32_t id = f.read(kSubsystem) >> 16;
  const uint32_t bar0 = f.read(kBar0);
  f.write(kCommand, (f.read(kCommand) & 0xffff) | kCommandIo | kCommandMemory | kCommandMaster);
  begin_check("pci-msix.capability");
  bool masked = f.vectors >= 2;
  for (uint32_t v = 0; masked && v < f.vectors; ++v) masked = (mmio_read32(f.table + 16 * v + 12) & 1) != 0;
  info("pci-msix device=", dec(f.device), " id=", dec(id), " vectors=", dec(f.vectors), " table=", hex(f.table),
       " pba=", hex(f.pba));
  if (!check("pci-msix.capability", masked, "device=", dec(f.device), " cap=", hex(f.cap))) return;

  Pci t(PortRegisters{static_cast<uint16_t>(bar0 & ~3u)});
  // As Linux's legacy driver: features first (negotiate resets the device, which forgets vector
  // assignments), then MSI-X and the configuration vector, the queue and its vector, DRIVER_OK.
  auto accepted = driver::negotiate(t, driver::bit(driver::kFeatureIndirectDesc));
  if (!accepted) {
    fail("pci-msix.vectors", "feature negotiation failed");
    return;
  }
  const uint64_t capacity_before = id == driver::kDeviceBlock ? t.config64(0) : 0;
  begin_check("pci-msix.vectors");
  f.set_msix(kMsixEnable);
  t.set_msix(true);
  f.entry(0, config_vector, false);
  f.entry(1, queue_vector, false);
  const uint16_t refused = t.set_config_vector(static_cast<uint16_t>(f.vectors));
  const uint16_t cv = t.set_config_vector(0);
  const uint64_t capacity_after = id == driver::kDeviceBlock ? t.config64(0) : 0;
  auto q = driver::setup_queue(t, arena, 0, driver::kMaxQueueSize, driver::ring_options(accepted.value(), 4));
  const uint16_t qv = t.set_queue_vector(0, 1);
  const bool vectors = refused == driver::pci::kNoVector && cv == 0 && qv == 1 && capacity_after == capacity_before;
  if (!check("pci-msix.vectors", vectors, "refused=", hex(refused), " config=", dec(cv), " queue=", dec(qv),
             " capacity=", dec(capacity_after), " before=", dec(capacity_before))) {
    return;
  }
  auto data = arena.allocate(512, 512);
  auto req = driver::BlkRequest::allocate(arena);
  if (!q || !data || !req || driver::driver_ok(t) != driver::Error::none) {
    fail("pci-msix.interrupt", "device setup failed");
    return;
  }
  begin_check("pci-msix.interrupt");
  uint32_t config_before = count(config_vector);
  uint32_t queue_before = count(queue_vector);
  uint64_t round = 0;
  for (; round < rounds; ++round) {
    const uint32_t before = count(queue_vector);
    if (!one_request(q.value(), t, id, data.value(), req.value()) || !wait_vector(queue_vector, before)) break;
  }
  check("pci-msix.interrupt", round == rounds && count(config_vector) == config_before, "rounds=", dec(round),
        " queue_vector=", dec(count(queue_vector) - queue_before), " config_vector=",
        dec(count(config_vector) - config_before));

  begin_check("pci-msix.mask");
  f.mask(1, true);
  queue_before = count(queue_vector);
  const bool done_masked = one_request(q.value(), t, id, data.value(), req.value());
  const bool quiet = !wait_vector(queue_vector, queue_before, kQuietCycles);
  const bool pending = f.pending(1);
  f.mask(1, false);
  const bool arrived = wait_vector(queue_vector, queue_before);
  check("pci-msix.mask", done_masked && quiet && pending && arrived && !f.pending(1), "done=", dec(done_masked),
        " quiet=", dec(quiet), " pending=", dec(pending), " arrived_on_unmask=", dec(arrived));

  begin_check("pci-msix.intx");
  f.set_msix(0);
  t.set_msix(false);
  (void)t.interrupt_status();  // clear the ISR
  const uint64_t capacity_intx = id == driver::kDeviceBlock ? t.config64(0) : 0;
  config_before = count(config_vector);
  queue_before = count(queue_vector);
  const bool done_intx = one_request(q.value(), t, id, data.value(), req.value());
  const uint32_t status = f.read(kCommand) >> 16;
  const uint32_t isr = t.interrupt_status();
  const bool no_msi = !wait_vector(queue_vector, queue_before, kQuietCycles) && count(config_vector) == config_before;
  check("pci-msix.intx",
        done_intx && (isr & 1) != 0 && (status & kStatusInterrupt) != 0 && no_msi && capacity_intx == capacity_before,
        "done=", dec(done_intx), " isr=", hex(isr), " status=", hex(status), " no_msi=", dec(no_msi));
  t.reset();
  f.write(kCommand, (f.read(kCommand) & 0xffff) & ~kCommandIntxDisable);
}

}  // namespace

void run_pci_msix(const Context& ctx) {
  uint64_t expect = 0;
  uint64_t rounds = 1;
  if (!ctx.number("pci-msix.expect", 0, expect) || !ctx.number_in("pci-msix.rounds", 1, 1, 1000000, rounds)) return;
  mask_8259_pics();
  lapic_enable();
  driver::Arena arena = dma_arena();
  uint32_t found = 0;
  (void)pci_scan_bus(0, [&](const PciFunction& fn) {
    if (fn.vendor_id != driver::pci::kVendorId || fn.device_id < driver::pci::kFirstDeviceId ||
        fn.device_id > driver::pci::kLastDeviceId) {
      return;
    }
    const uint32_t id = pci_config_read32(0, fn.device, 0, kSubsystem) >> 16;
    if (id != driver::kDeviceBlock && id != driver::kDeviceRng) return;
    Function f;
    f.device = fn.device;
    if (!find_msix(f)) {
      info("pci-msix device=", dec(fn.device), " id=", dec(id), " has no MSI-X capability: not checked");
      return;
    }
    arena.reset();
    const auto base = static_cast<uint8_t>(kFirstVector + 2 * found);
    ++found;
    check_function(f, arena, base, static_cast<uint8_t>(base + 1), rounds);
  });
  result("pci-msix", "devices=", dec(found));
  check("pci-msix.count", expect == 0 ? found > 0 : found == expect, "found=", dec(found), " expected=",
        expect == 0 ? Text{"at least 1"} : Text{"pci-msix.expect"});
}

}  // namespace kiln::probe
