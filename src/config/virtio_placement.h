// Where each virtio device of a VM goes: its own transport, else the machine's default
// (VmConfig::virtio_transport). The builder makes PCI bus 0 and its windows when any device is on
// virtio-PCI (or PCI is the default); VirtioDevices places every device on its effective transport.
#pragma once

#include <string>
#include <vector>

#include "config/vm_config.h"

namespace kiln {

struct VirtioPlacement {
  std::string kind;  // the device's name(): "blk", "net", "rng", "console", "vsock"
  std::string id;    // a disk's drive id (diskN by default) or an interface's id; else empty
  VirtioTransport transport;
};

// Every virtio device in device order (VirtioDevices' order: disks, network interfaces, rng,
// virtio console, vsock) with its effective transport.
[[nodiscard]] std::vector<VirtioPlacement> virtio_placements(const VmConfig& config);
// True when any device is on virtio-PCI, or the machine's default is PCI (then the bus is there
// even without devices, as it always was: snapshots of such VMs hold its state).
[[nodiscard]] bool needs_pci_bus(const VmConfig& config);

}  // namespace kiln
