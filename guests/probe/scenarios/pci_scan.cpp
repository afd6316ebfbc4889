// probe=pci-scan: enumerates PCI bus 0 through configuration mechanism #1, the way Linux does
// before it knows of any host bridge, and compares the number of functions found with
// expect=N (default 0: kiln with no virtio device on PCI and without --transport pci has no PCI bus,
// nor has QEMU microvm by default).
//
// Lines: PROBE info pci bus=0 device=D function=F vendor=0x.. device_id=0x.. class=0x.. header=0x..
//        PROBE info pci-scan config_address readback=0x........   (0x80000000 written)
//        PROBE result pci-scan devices=N
//        PROBE ok|fail pci-scan.count
#include "probe/lib/pci.h"
#include "probe/lib/report.h"
#include "probe/scenarios/scenario.h"
#include "runtime/io.h"

namespace kiln::probe {

void run_pci_scan(const Context& ctx) {
  uint64_t expect = 0;
  if (!ctx.number_in("expect", 0, 0, 256, expect)) return;

  // Does CONFIG_ADDRESS latch? Informational: without a host bridge (QEMU microvm) the port is
  // unassigned and reads all ones; kiln latches it.
  guest::outl(kPciConfigAddress, 0x80000000u);
  info("pci-scan config_address readback=", hex(guest::inl(kPciConfigAddress)));

  begin_check("pci-scan.count");
  const uint32_t found = pci_scan_bus(0, [](const PciFunction& f) {
    info("pci bus=0 device=", dec(f.device), " function=", dec(f.function), " vendor=", hex(f.vendor_id),
         " device_id=", hex(f.device_id), " class=", hex(f.class_revision >> 8), " header=", hex(f.header_type));
  });
  result("pci-scan", "devices=", dec(found));
  check("pci-scan.count", found == expect, "found ", dec(found), " functions on bus 0, expected ", dec(expect));
}

}  // namespace kiln::probe
