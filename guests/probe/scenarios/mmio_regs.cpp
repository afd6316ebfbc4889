// probe=mmio-regs: the legacy virtio-mmio register file (virtio 0.9.5, Appendix X) of every
// device announced with virtio_mmio.device=, one 32-bit access at a time, as a driver sees it.
// Each device gets the same checks, in this order (one ok/fail line per check and device):
//   mmio-regs.interrupt_idle   InterruptStatus reads 0 before anything happened
//   mmio-regs.magic            MagicValue 0x74726976 ("virt")
//   mmio-regs.version          Version 1 (legacy)
//   mmio-regs.device_id        DeviceID non-zero (and equal to the command line's :ID if given)
//   mmio-regs.vendor_id        VendorID non-zero
//   mmio-regs.host_features    windows 0 and 1 stable; window 1 without VERSION_1 (bit 32)
//   mmio-regs.status           Status 0 at first; ACKNOWLEDGE, then +DRIVER read back
//   mmio-regs.guest_features   GuestFeatures windows 0 and 1 written, Status unchanged
//   mmio-regs.guest_page_size  GuestPageSize 4096 written, Status unchanged
//   mmio-regs.queue_missing    QueueSel of a missing queue: QueueNumMax 0, QueuePFN 0
//   mmio-regs.queue_num_max    queue 0: QueueNumMax > 0, QueuePFN 0
//   mmio-regs.queue_pfn        queue 0: QueueNum, QueueAlign, QueuePFN written, QueuePFN read back
//   mmio-regs.config           config space at 0x100 readable, the same twice
//   mmio-regs.read_only        writes to MagicValue, Version, DeviceID, VendorID, HostFeatures,
//                              QueueNumMax and InterruptStatus change nothing
//   mmio-regs.reset            Status 0 written: Status, QueuePFN and InterruptStatus read 0
// Lines: PROBE info mmio-regs index=I base=.. and PROBE result mmio-regs.device index=I id= vendor=
// features0= features1= queue_num_max= config=.
// Parameters: missing_queue=1000 (a queue index no device has; QEMU selects queues below 1024
// only), config_bytes=8 (1..256).
#include "probe/lib/report.h"
#include "probe/lib/virtio_env.h"
#include "probe/scenarios/scenario.h"
#include "runtime/phys.h"

namespace kiln::probe {
namespace {

namespace mmio = driver::mmio;

struct Settings {
  uint64_t missing_queue;
  uint64_t config_bytes;
};

// Reads `n` config bytes (bytewise) and folds them into a 64-bit checksum-like value, the first
// eight bytes as they are.
uint64_t read_config(const MmioRegisters& r, uint64_t n) {
  uint64_t first = 0;
  uint64_t mix = 0;
  for (uint32_t i = 0; i < n; ++i) {
    const uint8_t b = r.read8(mmio::kConfig + i);
    if (i < 8) first |= uint64_t{b} << (8 * i);
    mix = (mix ^ b) * 0x100000001b3ull;
  }
  return n <= 8 ? first : first ^ mix;
}

void check_device(const Settings& s, uint32_t index, const VirtioMmioDevice& d, driver::Arena& arena) {
  const MmioRegisters r{d.base};
  info("mmio-regs index=", dec(index), " base=", hex(d.base), " size=", hex(d.size));
  const auto status_is = [&](uint32_t want) { return r.read32(mmio::kStatus) == want; };

  begin_check("mmio-regs.interrupt_idle");
  const uint32_t isr = r.read32(mmio::kInterruptStatus);
  check("mmio-regs.interrupt_idle", isr == 0, "index=", dec(index), " value=", hex(isr));

  const uint32_t magic = r.read32(mmio::kMagicValue);
  if (!check("mmio-regs.magic", magic == mmio::kMagic, "index=", dec(index), " value=", hex(magic))) return;
  const uint32_t version = r.read32(mmio::kVersion);
  check("mmio-regs.version", version == mmio::kLegacyVersion, "index=", dec(index), " value=", dec(version));
  const uint32_t id = r.read32(mmio::kDeviceId);
  check("mmio-regs.device_id", id != 0 && (!d.has_id || id == d.id), "index=", dec(index), " value=", dec(id),
        " cmdline_id=", d.has_id ? dec(d.id) : dec(0));
  const uint32_t vendor = r.read32(mmio::kVendorId);
  check("mmio-regs.vendor_id", vendor != 0, "index=", dec(index), " value=", hex(vendor));

  r.write32(mmio::kHostFeaturesSel, 0);
  const uint32_t f0 = r.read32(mmio::kHostFeatures);
  r.write32(mmio::kHostFeaturesSel, 1);
  const uint32_t f1 = r.read32(mmio::kHostFeatures);
  r.write32(mmio::kHostFeaturesSel, 0);
  const uint32_t f0_again = r.read32(mmio::kHostFeatures);
  check("mmio-regs.host_features", f0 == f0_again && (f1 & 1) == 0, "index=", dec(index), " window0=", hex(f0),
        " again=", hex(f0_again), " window1=", hex(f1));

  const uint32_t initial = r.read32(mmio::kStatus);
  r.write32(mmio::kStatus, driver::kStatusAcknowledge);
  const uint32_t ack = r.read32(mmio::kStatus);
  r.write32(mmio::kStatus, driver::kStatusAcknowledge | driver::kStatusDriver);
  const uint32_t drv = r.read32(mmio::kStatus);
  check("mmio-regs.status", initial == 0 && ack == 1 && drv == 3, "index=", dec(index), " initial=", hex(initial),
        " ack=", hex(ack), " driver=", hex(drv));

  const uint32_t ring_features = static_cast<uint32_t>(driver::bit(driver::kFeatureIndirectDesc) |
                                                       driver::bit(driver::kFeatureEventIdx));
  r.write32(mmio::kGuestFeaturesSel, 0);
  r.write32(mmio::kGuestFeatures, f0 & ring_features);
  r.write32(mmio::kGuestFeaturesSel, 1);
  r.write32(mmio::kGuestFeatures, 0);
  check("mmio-regs.guest_features", status_is(3), "index=", dec(index), " status=", hex(r.read32(mmio::kStatus)));
  r.write32(mmio::kGuestPageSize, 4096);
  check("mmio-regs.guest_page_size", status_is(3), "index=", dec(index), " status=", hex(r.read32(mmio::kStatus)));

  r.write32(mmio::kQueueSel, static_cast<uint32_t>(s.missing_queue));
  const uint32_t missing_max = r.read32(mmio::kQueueNumMax);
  const uint32_t missing_pfn = r.read32(mmio::kQueuePfn);
  check("mmio-regs.queue_missing", missing_max == 0 && missing_pfn == 0, "index=", dec(index), " queue=",
        dec(s.missing_queue), " num_max=", dec(missing_max), " pfn=", hex(missing_pfn));

  r.write32(mmio::kQueueSel, 0);
  const uint32_t num_max = r.read32(mmio::kQueueNumMax);
  const uint32_t pfn_before = r.read32(mmio::kQueuePfn);
  check("mmio-regs.queue_num_max", num_max > 0 && pfn_before == 0, "index=", dec(index), " num_max=", dec(num_max),
        " pfn=", hex(pfn_before));

  // A real, zeroed ring area for queue 0 (the device may look at it once QueuePFN is set).
  uint32_t num = 1;
  while (num * 2 <= num_max && num < 16) num *= 2;
  const uint64_t bytes = driver::legacy_ring_layout(0, static_cast<uint16_t>(num), 4096).bytes;
  auto area = arena.allocate(bytes, 4096);
  if (num_max > 0 && area.ok()) {
    const auto pfn = static_cast<uint32_t>(area->phys / 4096);
    r.write32(mmio::kQueueNum, num);
    r.write32(mmio::kQueueAlign, 4096);
    r.write32(mmio::kQueuePfn, pfn);
    const uint32_t back = r.read32(mmio::kQueuePfn);
    check("mmio-regs.queue_pfn", back == pfn, "index=", dec(index), " wrote=", hex(pfn), " read=", hex(back));
  } else {
    fail("mmio-regs.queue_pfn", "index=", dec(index), " no queue 0 or no arena memory");
  }

  const uint64_t config = read_config(r, s.config_bytes);
  const uint64_t config_again = read_config(r, s.config_bytes);
  check("mmio-regs.config", config == config_again, "index=", dec(index), " first=", hex(config), " second=",
        hex(config_again));

  constexpr uint32_t kJunk = 0x5a5a5a5a;
  const uint32_t ro_offsets[] = {mmio::kMagicValue, mmio::kVersion,     mmio::kDeviceId,        mmio::kVendorId,
                                 mmio::kHostFeatures, mmio::kQueueNumMax, mmio::kInterruptStatus};
  bool unchanged = true;
  uint32_t bad_offset = 0;
  for (const uint32_t off : ro_offsets) {
    const uint32_t before = r.read32(off);
    r.write32(off, kJunk);
    if (r.read32(off) != before && unchanged) {
      unchanged = false;
      bad_offset = off;
    }
  }
  check("mmio-regs.read_only", unchanged && status_is(3), "index=", dec(index), " changed_offset=", hex(bad_offset),
        " status=", hex(r.read32(mmio::kStatus)));

  r.write32(mmio::kStatus, 0);
  const uint32_t status_after = r.read32(mmio::kStatus);
  r.write32(mmio::kQueueSel, 0);
  const uint32_t pfn_after = r.read32(mmio::kQueuePfn);
  const uint32_t isr_after = r.read32(mmio::kInterruptStatus);
  check("mmio-regs.reset", status_after == 0 && pfn_after == 0 && isr_after == 0, "index=", dec(index),
        " status=", hex(status_after), " pfn=", hex(pfn_after), " isr=", hex(isr_after));

  result("mmio-regs.device", "index=", dec(index), " id=", dec(id), " vendor=", hex(vendor), " features0=", hex(f0),
         " features1=", hex(f1), " queue_num_max=", dec(num_max), " config=", hex(config));
}

}  // namespace

void run_mmio_regs(const Context& ctx) {
  Settings s{};
  if (!ctx.number_in("missing_queue", 1000, 0, 0xffffffff, s.missing_queue) ||
      !ctx.number_in("config_bytes", 8, 1, 256, s.config_bytes)) {
    return;
  }
  driver::Arena arena = dma_arena();
  uint32_t index = 0;
  ctx.cmdline.for_each("virtio_mmio.device", [&](Text value) {
    VirtioMmioDevice d;
    if (!parse_virtio_mmio_device(value, d)) return;  // discovery.virtio-mmio has failed it
    if (d.size < mmio::kConfig + s.config_bytes || !guest::is_mapped(d.base, d.size)) {
      fail("mmio-regs.window", "index=", dec(index), " base=", hex(d.base), " size=", hex(d.size),
           " is too small or not below 4 GiB");
    } else {
      check_device(s, index, d, arena);
    }
    ++index;
  });
  result("mmio-regs", "devices=", dec(index));
  if (index == 0) fail("mmio-regs.devices", "no virtio_mmio.device= on the command line");
}

}  // namespace kiln::probe
