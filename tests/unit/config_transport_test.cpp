// Per-device virtio transports: parsing "mmio"/"pci", each device's effective transport (its own,
// else the machine's default), and when the VM needs PCI bus 0.
#include <gtest/gtest.h>

#include "config/virtio_placement.h"

namespace kiln {
namespace {

VmConfig every_device() {
  VmConfig c;
  c.disks = {DiskConfig{}, DiskConfig{}};
  c.disks[1].id = "data";
  c.nets = {NetConfig{}};
  c.nets[0].id = "eth0";
  c.rng = true;
  c.console = ConsoleKind::kVirtio;
  c.vsock = VsockConfig{};
  return c;
}

std::string where(const std::vector<VirtioPlacement>& placements) {
  std::string out;
  for (const auto& p : placements) {
    out += fmt::format("{}{}{}={} ", p.kind, p.id.empty() ? "" : ":", p.id, transport_name(p.transport));
  }
  return out;
}

TEST(VirtioTransport, ParsesItsTwoNames) {
  EXPECT_EQ(parse_virtio_transport("--transport", "mmio"), VirtioTransport::kMmio);
  EXPECT_EQ(parse_virtio_transport("--transport", "pci"), VirtioTransport::kPci);
  auto bad = parse_virtio_transport("--disk a.img,transport=PCI: transport", "PCI");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message,
            "--disk a.img,transport=PCI: transport PCI: expected 'mmio' (virtio-mmio) or 'pci' (legacy virtio-PCI)");
  EXPECT_EQ(transport_name(VirtioTransport::kPci), "pci");
  EXPECT_EQ(transport_name(VirtioTransport::kMmio), "mmio");
}

TEST(VirtioPlacement, EveryDeviceFollowsTheMachineDefaultUnlessItChoosesItsOwn) {
  VmConfig c = every_device();
  EXPECT_EQ(where(virtio_placements(c)), "blk:disk0=mmio blk:data=mmio net:eth0=mmio rng=mmio console=mmio vsock=mmio ");
  EXPECT_FALSE(needs_pci_bus(c));
  c.virtio_transport = VirtioTransport::kPci;
  EXPECT_EQ(where(virtio_placements(c)), "blk:disk0=pci blk:data=pci net:eth0=pci rng=pci console=pci vsock=pci ");
  EXPECT_TRUE(needs_pci_bus(c));
  // Each device's own choice wins over the default, either way.
  c.disks[1].transport = VirtioTransport::kMmio;
  c.nets[0].transport = VirtioTransport::kMmio;
  c.console_transport = VirtioTransport::kMmio;
  EXPECT_EQ(where(virtio_placements(c)), "blk:disk0=pci blk:data=mmio net:eth0=mmio rng=pci console=mmio vsock=pci ");
  c.virtio_transport = VirtioTransport::kMmio;
  c.rng_transport = VirtioTransport::kPci;
  c.vsock->transport = VirtioTransport::kPci;
  EXPECT_EQ(where(virtio_placements(c)), "blk:disk0=mmio blk:data=mmio net:eth0=mmio rng=pci console=mmio vsock=pci ");
}

TEST(VirtioPlacement, OneDeviceOnPciIsEnoughForTheBus) {
  VmConfig c;
  c.disks = {DiskConfig{}};
  c.rng = true;
  EXPECT_FALSE(needs_pci_bus(c));
  c.disks[0].transport = VirtioTransport::kPci;  // the disk on PCI, the rng on the default mmio
  EXPECT_TRUE(needs_pci_bus(c));
  EXPECT_EQ(where(virtio_placements(c)), "blk:disk0=pci rng=mmio ");
  c.disks[0].transport.reset();
  c.rng_transport = VirtioTransport::kPci;
  EXPECT_TRUE(needs_pci_bus(c));
  // A transport of a device the VM does not have changes nothing.
  c.rng = false;
  c.console_transport = VirtioTransport::kPci;
  EXPECT_FALSE(needs_pci_bus(c));
  // PCI as the default: the bus, even with every device elsewhere or none at all (as before
  // per-device transports; such snapshots hold the bus's state).
  VmConfig none;
  EXPECT_FALSE(needs_pci_bus(none));
  none.virtio_transport = VirtioTransport::kPci;
  EXPECT_TRUE(needs_pci_bus(none));
}

}  // namespace
}  // namespace kiln
