// probe=pci-regs: the legacy virtio-PCI transport register by register (virtio 0.9.5, 2.1 PCI
// discovery and 2.2.2 "The virtio header" over I/O BAR 0, no MSI-X), the twin of mmio-regs.
// For each function on bus 0 with vendor 0x1af4 and device 0x1000..0x103f, in this order (one
// ok/fail line per check and function):
//   pci-regs.ids             vendor 0x1af4, device 0x1000..0x103f, revision 0 (legacy ABI)
//   pci-regs.subsystem       subsystem vendor 0x1af4, subsystem ID (the virtio device ID) non-zero
//   pci-regs.bar0            BAR 0 is an I/O BAR below 64 KiB (I/O decode, bus mastering enabled)
//   pci-regs.interrupt_pin   interrupt pin 1 (INTA#)
//   pci-regs.isr_idle        after Status 0, ISR reads 0, twice
//   pci-regs.host_features   HostFeatures the same on two reads
//   pci-regs.status          Status 0 after reset; ACKNOWLEDGE, then +DRIVER read back
//   pci-regs.guest_features  GuestFeatures written (ring features offered) and read back
//   pci-regs.queue_missing   QueueSelect of a missing queue: QueueSize 0, QueueAddress 0
//   pci-regs.queue_size      queue 0: QueueSize a power of two (<= 32768), QueueAddress 0
//   pci-regs.queue_pfn       queue 0: QueueAddress written and read back; 0 releases it (reads 0)
//   pci-regs.config          device config at 20 readable, the same twice
//   pci-regs.read_only       writes to HostFeatures, QueueSize and ISR change nothing
//   pci-regs.isr_clear       rng (ID 4): a request completes, ISR reads bit 0 then 0 (the read
//                            cleared it); other devices: ISR reads 0 twice
//   pci-regs.reset           Status 0 written: Status, QueueAddress and ISR read 0
// Lines: PROBE info pci-regs device= function= io=; PROBE result pci-regs.device device= id=
// pci_id= features= queue_size= config=; PROBE result pci-regs devices=N.
// Parameters: pci-regs.expect=N (fail pci-regs.count unless N found; default: at least one),
// missing_queue=1000 (QEMU selects queues below 1024 only), config_bytes=8 (1..236).
// QEMU resets the whole device when QueueAddress 0 is written; the checks after queue_pfn set
// Status again and do not rely on earlier state.
#include "probe/lib/pci.h"
#include "probe/lib/report.h"
#include "probe/scenarios/virtio_setup.h"

namespace kiln::probe {
namespace {

using Pci = driver::LegacyPci<PortRegisters>;
namespace reg = driver::pci;

// PCI configuration header type 0 (PCI Local Bus Specification 3.0, 6.1).
constexpr uint32_t kCfgId = 0x00;
constexpr uint32_t kCfgCommand = 0x04;
constexpr uint32_t kCfgClassRevision = 0x08;
constexpr uint32_t kCfgBar0 = 0x10;
constexpr uint32_t kCfgSubsystem = 0x2c;  // subsystem vendor (low 16) and ID (high 16)
constexpr uint32_t kCfgInterrupt = 0x3c;  // line (bits 0-7), pin (bits 8-15)
constexpr uint32_t kCommandIo = 1;
constexpr uint32_t kCommandMaster = 4;

struct Settings {
  uint64_t missing_queue;
  uint64_t config_bytes;
};

// Reads `n` config bytes (bytewise) and folds them into one value, the first eight as they are.
uint64_t read_config(Pci& t, uint64_t n) {
  uint64_t first = 0;
  uint64_t mix = 0;
  for (uint32_t i = 0; i < n; ++i) {
    const uint8_t b = t.config8(i);
    if (i < 8) first |= uint64_t{b} << (8 * i);
    mix = (mix ^ b) * 0x100000001b3ull;
  }
  return n <= 8 ? first : first ^ mix;
}

// The configuration-space checks; the I/O base of BAR 0, or 0 if it is not a usable I/O BAR.
uint16_t check_config_space(const PciFunction& fn, uint32_t& virtio_id) {
  const auto cfg = [&](uint32_t r) { return pci_config_read32(0, fn.device, fn.function, r); };
  const uint32_t ids = cfg(kCfgId);
  const uint32_t revision = cfg(kCfgClassRevision) & 0xff;
  const uint32_t pci_id = ids >> 16;
  check("pci-regs.ids",
        (ids & 0xffff) == reg::kVendorId && pci_id >= reg::kFirstDeviceId && pci_id <= reg::kLastDeviceId &&
            revision == 0,
        "device=", dec(fn.device), " ids=", hex(ids), " revision=", dec(revision));
  const uint32_t subsystem = cfg(kCfgSubsystem);
  virtio_id = subsystem >> 16;
  check("pci-regs.subsystem", (subsystem & 0xffff) == reg::kVendorId && virtio_id != 0, "device=", dec(fn.device),
        " subsystem=", hex(subsystem));
  const uint32_t bar0 = cfg(kCfgBar0);
  const bool io = (bar0 & 1) != 0 && (bar0 & ~3u) != 0 && (bar0 & ~3u) <= 0xffff;
  check("pci-regs.bar0", io, "device=", dec(fn.device), " bar0=", hex(bar0));
  const uint32_t pin = (cfg(kCfgInterrupt) >> 8) & 0xff;
  check("pci-regs.interrupt_pin", pin == 1, "device=", dec(fn.device), " pin=", dec(pin));
  if (!io) return 0;
  const uint32_t command = cfg(kCfgCommand) & 0xffff;
  pci_config_write32(0, fn.device, fn.function, kCfgCommand, command | kCommandIo | kCommandMaster);
  return static_cast<uint16_t>(bar0 & ~3u);
}

// rng: one 16-byte request on queue 0 with interrupts wanted; then ISR has bit 0 (used buffer)
// and the read clears it. Other devices: ISR reads 0 twice.
void check_isr_clear(Pci& t, uint32_t device, uint32_t virtio_id, driver::Arena& arena) {
  begin_check("pci-regs.isr_clear");
  if (virtio_id != driver::kDeviceRng) {
    const uint32_t first = t.interrupt_status();
    const uint32_t second = t.interrupt_status();
    check("pci-regs.isr_clear", first == 0 && second == 0, "device=", dec(device), " idle first=", hex(first),
          " second=", hex(second));
    return;
  }
  t.reset();
  auto accepted = driver::negotiate(t, 0);
  auto q = accepted ? driver::setup_queue(t, arena, 0, driver::kMaxQueueSize, driver::ring_options(0, 0))
                    : driver::Outcome<driver::Queue<Pci>>{accepted.error()};
  auto data = arena.allocate(16, 16);
  if (!q || !data || driver::driver_ok(t) != driver::Error::none) {
    fail("pci-regs.isr_clear", "device=", dec(device), " rng bring-up failed");
    return;
  }
  const driver::Segment seg{data->phys, 16};
  driver::Completion c;
  if (!q->add(&seg, 0, 1, 9).ok()) {
    fail("pci-regs.isr_clear", "device=", dec(device), " add failed");
    return;
  }
  q->kick();
  const bool done = wait_used(q.value(), c) == driver::Poll::done && c.token == 9;
  // The device publishes the used entry before it raises the interrupt (and sets ISR): a driver
  // polling the ring can see the entry first, so wait (bounded) for the bit. ISR is read-to-clear.
  uint32_t first = 0;
  for (uint32_t tries = 0; done && first == 0 && tries < 100000; ++tries) first = t.interrupt_status();
  const uint32_t second = t.interrupt_status();
  check("pci-regs.isr_clear", done && (first & 1) != 0 && second == 0, "device=", dec(device),
        " completed=", dec(done ? 1 : 0), " first=", hex(first), " second=", hex(second));
}

void check_function(const Settings& s, const PciFunction& fn, driver::Arena& arena) {
  const uint32_t dev = fn.device;
  uint32_t virtio_id = 0;
  const uint16_t io = check_config_space(fn, virtio_id);
  if (io == 0) return;
  info("pci-regs device=", dec(dev), " function=", dec(fn.function), " io=", hex(io));
  Pci t(PortRegisters{io});
  auto& r = t.regs();
  const auto status_is = [&](uint32_t want) { return t.status() == want; };

  // Firmware (SeaBIOS on QEMU -M pc) may have driven the device: start from a reset.
  t.reset();
  begin_check("pci-regs.isr_idle");
  const uint32_t isr = t.interrupt_status();
  const uint32_t isr_again = t.interrupt_status();
  check("pci-regs.isr_idle", isr == 0 && isr_again == 0, "device=", dec(dev), " value=", hex(isr), " again=",
        hex(isr_again));

  const uint32_t f0 = r.read32(reg::kHostFeatures32);
  const uint32_t f0_again = r.read32(reg::kHostFeatures32);
  check("pci-regs.host_features", f0 == f0_again, "device=", dec(dev), " first=", hex(f0), " again=",
        hex(f0_again));

  const uint32_t initial = t.status();
  t.set_status(driver::kStatusAcknowledge);
  const uint32_t ack = t.status();
  t.set_status(driver::kStatusAcknowledge | driver::kStatusDriver);
  const uint32_t drv = t.status();
  check("pci-regs.status", initial == 0 && ack == 1 && drv == 3, "device=", dec(dev), " initial=", hex(initial),
        " ack=", hex(ack), " driver=", hex(drv));

  const uint32_t ring_features = static_cast<uint32_t>(driver::bit(driver::kFeatureIndirectDesc) |
                                                       driver::bit(driver::kFeatureEventIdx));
  r.write32(reg::kGuestFeatures32, f0 & ring_features);
  const uint32_t guest = r.read32(reg::kGuestFeatures32);
  check("pci-regs.guest_features", guest == (f0 & ring_features) && status_is(3), "device=", dec(dev), " wrote=",
        hex(f0 & ring_features), " read=", hex(guest), " status=", hex(t.status()));

  const uint16_t missing_size = t.queue_max(static_cast<uint16_t>(s.missing_queue));
  const uint32_t missing_pfn = r.read32(reg::kQueueAddress32);
  check("pci-regs.queue_missing", missing_size == 0 && missing_pfn == 0, "device=", dec(dev), " queue=",
        dec(s.missing_queue), " size=", dec(missing_size), " pfn=", hex(missing_pfn));

  const uint16_t size = t.queue_max(0);
  const uint32_t pfn_before = r.read32(reg::kQueueAddress32);
  check("pci-regs.queue_size", driver::is_power_of_two(size) && size <= 32768 && pfn_before == 0, "device=",
        dec(dev), " size=", dec(size), " pfn=", hex(pfn_before));

  // A real, zeroed ring area of the device's size (the device may look at it once it is set).
  auto area = size > 0 ? arena.allocate(driver::legacy_ring_layout(0, size, reg::kQueueAlign).bytes, 4096)
                       : driver::Outcome<driver::DmaBuffer>{driver::Error::bad_argument};
  if (area.ok()) {
    const auto pfn = static_cast<uint32_t>(area->phys >> reg::kPageShift);
    r.write32(reg::kQueueAddress32, pfn);
    const uint32_t back = t.queue_pfn(0);
    t.release_queue(0);
    const uint32_t released = t.queue_pfn(0);
    check("pci-regs.queue_pfn", back == pfn && released == 0, "device=", dec(dev), " wrote=", hex(pfn), " read=",
          hex(back), " released=", hex(released));
  } else {
    fail("pci-regs.queue_pfn", "device=", dec(dev), " no queue 0 or no arena memory");
  }
  t.set_status(driver::kStatusAcknowledge | driver::kStatusDriver);  // QEMU reset on QueueAddress 0

  const uint64_t config = read_config(t, s.config_bytes);
  const uint64_t config_again = read_config(t, s.config_bytes);
  check("pci-regs.config", config == config_again, "device=", dec(dev), " first=", hex(config), " second=",
        hex(config_again));

  constexpr uint32_t kJunk = 0x5a5a5a5a;
  const uint32_t host_before = r.read32(reg::kHostFeatures32);
  r.write32(reg::kHostFeatures32, kJunk);
  const uint32_t host_after = r.read32(reg::kHostFeatures32);
  (void)t.queue_max(0);
  r.write16(reg::kQueueSize16, 0x5a5a);
  const uint16_t size_after = r.read16(reg::kQueueSize16);
  r.write8(reg::kIsr8, 0x5a);
  const uint32_t isr_after = t.interrupt_status();
  check("pci-regs.read_only", host_after == host_before && size_after == size && isr_after == 0 && status_is(3),
        "device=", dec(dev), " host_features=", hex(host_after), " queue_size=", dec(size_after), " isr=",
        hex(isr_after), " status=", hex(t.status()));

  check_isr_clear(t, dev, virtio_id, arena);

  begin_check("pci-regs.reset");
  t.reset();
  const uint32_t status_after = t.status();
  const uint32_t pfn_after = t.queue_pfn(0);
  const uint32_t isr_reset = t.interrupt_status();
  check("pci-regs.reset", status_after == 0 && pfn_after == 0 && isr_reset == 0, "device=", dec(dev), " status=",
        hex(status_after), " pfn=", hex(pfn_after), " isr=", hex(isr_reset));

  result("pci-regs.device", "device=", dec(dev), " id=", dec(virtio_id), " pci_id=", hex(fn.device_id),
         " features=", hex(f0), " queue_size=", dec(size), " config=", hex(config));
}

}  // namespace

void run_pci_regs(const Context& ctx) {
  Settings s{};
  uint64_t expect = 0;
  if (!ctx.number("pci-regs.expect", 0, expect) || !ctx.number_in("missing_queue", 1000, 1, 0xffff, s.missing_queue) ||
      !ctx.number_in("config_bytes", 8, 1, 256 - reg::kConfigNoMsix, s.config_bytes)) {
    return;
  }
  driver::Arena arena = dma_arena();
  uint32_t found = 0;
  (void)pci_scan_bus(0, [&](const PciFunction& fn) {
    if (fn.vendor_id != reg::kVendorId || fn.device_id < reg::kFirstDeviceId || fn.device_id > reg::kLastDeviceId) {
      return;
    }
    ++found;
    arena.reset();  // the previous device was reset: its rings are free again
    check_function(s, fn, arena);
  });
  result("pci-regs", "devices=", dec(found));
  check("pci-regs.count", expect == 0 ? found > 0 : found == expect, "found=", dec(found), " expected=",
        expect == 0 ? Text{"at least 1"} : Text{"pci-regs.expect"});
}

}  // namespace kiln::probe
