// What `kiln restore` may change in a snapshot's configuration: where its disks' files are now
// (a snapshot names absolute paths; a copy of the VM, or one restored on another host, needs its
// own files). Everything else the guest could observe stays as it was saved.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "config/vm_config.h"

namespace kiln {

struct DiskPathOverride {
  std::string drive_id;  // as GET /vm/config names it: the API's drive_id, or diskN for the Nth --disk
  std::string path;
};

struct RestoreOptions {
  std::vector<DiskPathOverride> disk_paths;
  std::vector<NetTapOverride> net_taps;  // --net-tap ID=NAME (config/net_config.h)
  // Where the vsock device's host socket goes (--vsock-uds, the API's vsock_override): a restored
  // copy next to the original VM needs its own.
  std::optional<std::string> vsock_uds_path;
};

// Moves the snapshot's vsock socket; an error when the snapshot has no vsock device.
[[nodiscard]] Status apply_vsock_uds_path(VmConfig& config, const std::optional<std::string>& path);

// "ID=PATH" (--disk-path).
[[nodiscard]] Result<DiskPathOverride> parse_disk_path_override(std::string_view text);

// Points each named drive at its new file; an unknown or repeated drive id is an error naming the
// drives the snapshot has. The device checks the new file's size against the saved one.
[[nodiscard]] Status apply_disk_paths(VmConfig& config, std::span<const DiskPathOverride> overrides);

}  // namespace kiln
