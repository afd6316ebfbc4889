// One virtio device as the device manager sees it (device_manager.h): its name, pause and resume
// through its transport, and its snapshot state: where it sits (MMIO window or I/O BAR, GSI),
// checked on restore so that a snapshot goes only into a VM with the device in the same place,
// followed by the transport's registers, queue positions and the device's own state.
#pragma once

#include <memory>
#include <string>

#include "memory/guest_address.h"
#include "virtio/transports/legacy/legacy_transport.h"
#include "vmm/device_manager.h"

namespace kiln {

// One virtio device of the VM, as VirtioDevices places it.
struct VirtioSlot {
  std::string kind;  // the device's name(): "blk", "rng", "console"
  std::string id;    // the drive ID of a disk; empty for devices there is one of
  GuestAddress base;  // the MMIO window, or on PCI the I/O port of BAR 0
  uint32_t gsi = 0;
  std::shared_ptr<virtio::LegacyTransport> transport;
  bool on_pci = false;  // a virtio-PCI function, else a virtio-mmio window
};

// "virtio-blk rootfs", "virtio-rng": the device's name in snapshots, logs and metrics.
[[nodiscard]] std::string virtio_device_name(const std::string& kind, const std::string& id);

// Version 2 of a virtio device's record (version 1 was one section for every virtio device).
[[nodiscard]] ManagedDevice managed_virtio_device(const VirtioSlot& slot);

}  // namespace kiln
