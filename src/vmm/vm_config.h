// What a VM is made of, as validated by the command line (or, later, the API).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "arch/x86_64/platform/cpu_features.h"

namespace kiln {

// One --disk: a raw image (virtio-blk).
struct DiskConfig {
  std::string id;  // the API's drive_id (empty from the command line)
  std::string path;
  bool readonly = false;
  bool direct = false;  // O_DIRECT
  std::string serial;   // VIRTIO_BLK_T_GET_ID, at most 20 bytes
};

enum class ConsoleKind { kSerial, kVirtio };

// How the virtio devices reach the guest: virtio-mmio windows, or legacy virtio-PCI functions on
// PCI bus 0.
enum class VirtioTransport { kMmio, kPci };

struct VmConfig {
  std::string kernel_path;
  std::optional<std::string> initrd_path;
  std::string cmdline = "console=ttyS0 reboot=k panic=1";
  uint64_t memory_bytes = 256ull << 20;
  uint32_t vcpus = 1;
  std::optional<std::string> cpu_template;          // unset: "pvm" on kvm_pvm hosts, else "none"
  std::vector<x86::FeatureOverride> cpu_features;  // applied after the template, in order
  std::vector<DiskConfig> disks;
  ConsoleKind console = ConsoleKind::kSerial;  // where kiln's stdin goes; serial output is always shown
  bool rng = false;
  VirtioTransport virtio_transport = VirtioTransport::kMmio;
};

// The name of disk `index` in the API and in snapshots: its drive_id, or diskN for the Nth --disk.
inline std::string drive_id(const VmConfig& config, size_t index) {
  const std::string& id = config.disks.at(index).id;
  return id.empty() ? "disk" + std::to_string(index) : id;
}

}  // namespace kiln
