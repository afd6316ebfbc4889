// Every device of the VM in one registry (legacy devices, each virtio device, the PCI bus), in
// the order they were added, which is the one order written anywhere: pause runs in it, resume in
// reverse, and a snapshot holds one section per device, named and versioned. Restoring refuses
// a snapshot with a device this VM does not have, or without one it has, naming the device.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "common/result.h"
#include "snapshot/codec.h"

namespace kiln {

struct ManagedDevice {
  std::string name;      // unique and stable across kiln versions: "serial", "virtio-blk disk0"
  uint32_t version = 1;  // of the state record; a snapshot with another version is refused
  // Quiesce (complete what is in flight, raise nothing, touch no guest memory) and continue.
  // Either may be empty (nothing to do). A pause error is logged; the snapshot then fails.
  std::function<Status()> pause;
  std::function<void()> resume;
  // Save while paused; restore into a device built from the same configuration, before any
  // vCPU runs (every byte untrusted). Either may be empty (the device has no state).
  std::function<Status(snapshot::Encoder&)> save;
  std::function<Status(snapshot::Decoder&)> restore;
  // Undo a partial restore (on error no device may be left half-restored and running).
  std::function<void()> reset;
};

class DeviceManager {
 public:
  // Most devices a snapshot may name (far above what kiln builds).
  static constexpr uint32_t kMaxDevices = 512;

  // Fails for a name already registered.
  [[nodiscard]] Status add(ManagedDevice device);
  [[nodiscard]] std::vector<std::string> names() const;

  // In registration order; a device that fails to pause is logged and stays paused (a snapshot
  // of it is then refused by its save).
  void pause_all() const;
  // In reverse order.
  void resume_all() const;

  // The snapshot section: { u32 count, { string name, u32 version, bytes state } x count }.
  [[nodiscard]] Result<std::vector<uint8_t>> save_all() const;
  // Refuses unknown, missing, repeated or other-version sections, naming the device, before any
  // device is touched; then restores each device (its bytes must be consumed exactly). On error
  // every device is reset.
  [[nodiscard]] Status restore_all(std::span<const uint8_t> section) const;

 private:
  std::vector<ManagedDevice> devices_;
};

}  // namespace kiln
