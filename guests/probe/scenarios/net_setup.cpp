#include "probe/lib/pci.h"
#include "probe/scenarios/net_scenario.h"

namespace kiln::probe {

bool read_net_params(const Context& ctx, NetParams& p) {
  uint64_t frames = 0, mrg = 0, csum = 0, guest_csum = 0, ctrl = 0, bad = 0, qs = 0, pps = 0, window = 0, ring = 0;
  if (!ctx.number_in("net.frames", 16, 1, 1000, frames) || !ctx.number_in("net.mrg", 1, 0, 1, mrg) ||
      !ctx.number_in("net.csum", 1, 0, 1, csum) || !ctx.number_in("net.guest_csum", 1, 0, 1, guest_csum) ||
      !ctx.number_in("net.ctrl", 1, 0, 1, ctrl) || !ctx.number_in("net.bad", 1, 0, 1, bad) ||
      !ctx.number_in("net.queue_size", 256, 2, 32768, qs) || !ctx.number_in("net.pps", 0, 0, 100000000, pps) ||
      !ctx.number_in("net.window", 32, 1, kTxBuffers, window) || !ctx.number_in("net.event_idx", 1, 0, 1, ring)) {
    return false;
  }
  const Text transport = ctx.text("net.transport", "mmio");
  if (!(transport == Text{"mmio"}) && !(transport == Text{"pci"})) {
    fail("params", "net.transport=", transport);
    return false;
  }
  p.pci = transport == Text{"pci"};
  p.frames = static_cast<uint32_t>(frames);
  p.queue_size = static_cast<uint16_t>(qs);
  p.bad = bad != 0;
  p.pps = pps;
  p.window = static_cast<uint32_t>(window);
  p.wanted = driver::bit(net::kFeatureMac) | driver::bit(net::kFeatureStatus);
  if (mrg != 0) p.wanted |= driver::bit(net::kFeatureMrgRxbuf);
  if (csum != 0) p.wanted |= driver::bit(net::kFeatureCsum);
  if (guest_csum != 0) p.wanted |= driver::bit(net::kFeatureGuestCsum);
  if (ctrl != 0) p.wanted |= driver::bit(net::kFeatureCtrlVq) | driver::bit(net::kFeatureCtrlRx);
  if (ring != 0) p.wanted |= driver::bit(driver::kFeatureEventIdx);
  return true;
}

bool find_pci_net(PciNet& out) {
  constexpr uint32_t kCommand = 0x04;
  constexpr uint32_t kBar0 = 0x10;
  bool found = false;
  (void)pci_scan_bus(0, [&](const PciFunction& fn) {
    if (found || fn.vendor_id != driver::pci::kVendorId || fn.device_id != 0x1000) return;
    const uint32_t bar0 = pci_config_read32(0, fn.device, fn.function, kBar0);
    if ((bar0 & 1) == 0) return;
    const uint32_t command = pci_config_read32(0, fn.device, fn.function, kCommand) & 0xffff;
    pci_config_write32(0, fn.device, fn.function, kCommand, command | 1 | 4);  // I/O, bus master
    out = PciNet(PortRegisters{static_cast<uint16_t>(bar0 & ~3u)});
    info("net pci device=", dec(fn.device), " io=", hex(bar0 & ~3u));
    found = true;
  });
  return check("net.found", found, "no virtio-PCI function with device ID 0x1000 on bus 0");
}

}  // namespace kiln::probe
