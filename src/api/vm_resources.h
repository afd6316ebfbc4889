// The VM being assembled by API requests or a config file, before it boots (Firecracker's
// VmResources): each setter checks its values against the host and the files at once, so a bad
// request fails when it is made; build() checks everything again and produces the VmConfig the
// VMM boots. The state rules (what is allowed before or after boot) live in ApiServer.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/vm_model.h"
#include "config/vm_config.h"
#include "config/vm_config_check.h"

namespace kiln::api {

class VmResources {
 public:
  VmResources() = default;
  // A VM booted from the command line: its drives are named by DiskConfig::id, or "disk<N>".
  [[nodiscard]] static VmResources from_vm_config(const VmConfig& config);
  // The same for a VM restored from a snapshot; the logger and metrics set before stay.
  void adopt_vm_config(const VmConfig& config);

  [[nodiscard]] Status set_boot_source(BootSource boot);
  [[nodiscard]] Status set_machine_config(const MachineConfig& machine, const HostLimits& host);
  [[nodiscard]] Status update_machine_config(const MachineConfigUpdate& update, const HostLimits& host);
  // Adds a drive or replaces the one with the same id. The root device is kept first, so it is
  // /dev/vda; a second root device is refused.
  [[nodiscard]] Status insert_drive(Drive drive);
  // Adds a network interface or replaces the one with the same iface_id; a tap or MAC another
  // interface already has is refused (as Firecracker).
  [[nodiscard]] Status insert_network_interface(NetConfig net);
  [[nodiscard]] const std::vector<NetConfig>& network_interfaces() const { return nets_; }
  void set_entropy(Entropy entropy) { entropy_ = entropy; boot_specific_ = true; }
  // PUT /vsock (checked by parse_vsock); a second one replaces the first.
  void set_vsock(VsockConfig vsock) { vsock_ = std::move(vsock); boot_specific_ = true; }
  void set_logger(LoggerConfig logger) { logger_ = std::move(logger); }
  void set_metrics(MetricsConfig metrics) { metrics_ = std::move(metrics); }

  // True once anything but the logger or metrics was configured (snapshot/load is then refused).
  [[nodiscard]] bool boot_specific_configured() const { return boot_specific_; }
  [[nodiscard]] const MachineConfig& machine_config() const { return machine_; }
  [[nodiscard]] const std::optional<LoggerConfig>& logger() const { return logger_; }
  [[nodiscard]] const std::optional<MetricsConfig>& metrics() const { return metrics_; }
  [[nodiscard]] const std::vector<Drive>& drives() const { return drives_; }
  // The position of a drive in VmConfig::disks (what VmmController::update_drive takes).
  [[nodiscard]] std::optional<size_t> drive_index(std::string_view drive_id) const;
  void set_drive_path(size_t index, std::string path) { drives_.at(index).path_on_host = std::move(path); }

  // The VM to boot: the kernel must be set; root drive adds "root=/dev/vda rw" (or
  // "root=PARTUUID=<id>", "ro") to the command line, as Firecracker does.
  [[nodiscard]] Result<VmConfig> build(const HostLimits& host) const;
  // GET /vm/config: Firecracker's FullVmConfiguration, which is also the config file's format.
  [[nodiscard]] Json to_json() const;

 private:
  std::optional<BootSource> boot_;
  MachineConfig machine_;
  std::vector<Drive> drives_;
  std::vector<NetConfig> nets_;
  std::optional<Entropy> entropy_;
  std::optional<VsockConfig> vsock_;
  std::optional<LoggerConfig> logger_;
  std::optional<MetricsConfig> metrics_;
  bool boot_specific_ = false;
};

}  // namespace kiln::api
