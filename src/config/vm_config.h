// What a VM is made of, as the command line, the API or a config file give it (checked with
// config/vm_config_check.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "arch/x86_64/platform/cpu_features.h"
#include "config/net_config.h"
#include "config/virtio_transport.h"

namespace kiln {

// One --disk: a raw image (virtio-blk).
struct DiskConfig {
  std::string id;  // the API's drive_id (empty from the command line)
  std::string path;
  bool readonly = false;
  bool direct = false;  // O_DIRECT
  std::string serial;   // VIRTIO_BLK_T_GET_ID, at most 20 bytes
  std::optional<VirtioTransport> transport{};  // unset: VmConfig::virtio_transport
};

enum class ConsoleKind { kSerial, kVirtio };

// --vsock / PUT /vsock: virtio-vsock bridged to unix sockets as Firecracker does (a host program
// connects to uds_path and sends "CONNECT <port>"; the guest reaches "<uds_path>_<port>").
struct VsockConfig {
  uint64_t guest_cid = 3;
  std::string uds_path;
  std::string id;  // the API's deprecated vsock_id, kept for GET /vm/config
  std::optional<VirtioTransport> transport{};  // unset: VmConfig::virtio_transport
};

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
  // The machine's default transport; each device may choose its own (config/virtio_placement.h).
  VirtioTransport virtio_transport = VirtioTransport::kMmio;
  std::optional<VirtioTransport> rng_transport;
  std::optional<VirtioTransport> console_transport;  // with ConsoleKind::kVirtio
  std::vector<NetConfig> nets;  // virtio-net interfaces, in device order after the disks
  std::optional<VsockConfig> vsock;
};

// The name of disk `index` in the API and in snapshots: its drive_id, or diskN for the Nth --disk.
inline std::string drive_id(const VmConfig& config, size_t index) {
  const std::string& id = config.disks.at(index).id;
  return id.empty() ? "disk" + std::to_string(index) : id;
}

}  // namespace kiln
