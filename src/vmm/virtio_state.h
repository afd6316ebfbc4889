// The snapshot section of the VM's virtio devices: pause/resume over all of them in order, and
// their state with what identifies each one (kind, drive ID, MMIO window, GSI), so that a
// snapshot is restored only into a VM with the same devices in the same places.
#pragma once

#include <memory>
#include <span>
#include <string>

#include "common/result.h"
#include "memory/guest_address.h"
#include "snapshot/codec.h"
#include "virtio/transports/legacy/legacy_transport.h"

namespace kiln {

// One virtio device of the VM, as VirtioDevices places it.
struct VirtioSlot {
  std::string kind;  // the device's name(): "blk", "rng", "console"
  std::string id;    // the drive ID of a disk (may be empty); empty for other devices
  GuestAddress base;
  uint32_t gsi = 0;
  std::shared_ptr<virtio::LegacyTransport> transport;
};

// Pauses every device in order. A device that cannot complete its requests in flight is logged
// and stays paused with them; save_virtio_slots then refuses the snapshot.
void pause_virtio_slots(std::span<const VirtioSlot> slots);
void resume_virtio_slots(std::span<const VirtioSlot> slots);
// Every device must be paused.
[[nodiscard]] Status save_virtio_slots(std::span<const VirtioSlot> slots, snapshot::Encoder& out);
// Before any vCPU runs, into devices just created from the same configuration, over guest memory
// already restored. Refuses a snapshot of another device set ("snapshot has 2 disks, this VM has
// 1"). Leaves the devices paused; on error every transport is reset.
[[nodiscard]] Status restore_virtio_slots(std::span<const VirtioSlot> slots, snapshot::Decoder& in);

}  // namespace kiln
