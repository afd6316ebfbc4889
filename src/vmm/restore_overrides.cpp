#include "vmm/restore_overrides.h"

#include <fmt/format.h>

#include <set>

namespace kiln {
namespace {

std::string drive_ids(const VmConfig& config) {
  if (config.disks.empty()) return "it has no drives";
  std::string ids;
  for (size_t i = 0; i < config.disks.size(); ++i) ids += (i ? ", " : "its drives are ") + drive_id(config, i);
  return ids;
}

}  // namespace

Result<DiskPathOverride> parse_disk_path_override(std::string_view text) {
  const size_t eq = text.find('=');
  if (eq == std::string_view::npos || eq == 0 || eq + 1 == text.size()) {
    return fail("--disk-path '{}': expected DRIVE_ID=PATH, e.g. disk0=/images/copy.raw", text);
  }
  return DiskPathOverride{std::string(text.substr(0, eq)), std::string(text.substr(eq + 1))};
}

Status apply_disk_paths(VmConfig& config, std::span<const DiskPathOverride> overrides) {
  std::set<std::string> seen;
  for (const DiskPathOverride& o : overrides) {
    if (!seen.insert(o.drive_id).second) return fail("--disk-path names drive '{}' twice", o.drive_id);
    bool found = false;
    for (size_t i = 0; i < config.disks.size() && !found; ++i) {
      if (drive_id(config, i) != o.drive_id) continue;
      config.disks[i].path = o.path;
      found = true;
    }
    if (!found) return fail("--disk-path: the snapshot has no drive '{}' ({})", o.drive_id, drive_ids(config));
  }
  return {};
}

Status apply_vsock_uds_path(VmConfig& config, const std::optional<std::string>& path) {
  if (!path) return {};
  if (!config.vsock) return fail("--vsock-uds: the snapshot has no vsock device");
  config.vsock->uds_path = *path;
  return {};
}

}  // namespace kiln
