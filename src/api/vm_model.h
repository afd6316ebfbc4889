// The API's view of a VM before it boots, field for field as Firecracker's API and config file
// name them (swagger firecracker.yaml: BootSource, MachineConfiguration, Drive, Logger, Metrics).
// Parsing (from_json) checks shape and what kiln supports; values against the host and files are
// checked by VmResources. kiln adds one field, `transport` ("mmio" or "pci"): on machine-config
// the default of every virtio device, on a drive, network interface, entropy or vsock that
// device's own; reported back only when set, so answers keep Firecracker's shape otherwise.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "api/json_object.h"
#include "config/net_config.h"
#include "vmm/vmm_controller.h"

namespace kiln::api {

// Firecracker's defaults when /machine-config is never set.
inline constexpr uint64_t kDefaultVcpuCount = 1;
inline constexpr uint64_t kDefaultMemSizeMib = 128;

struct BootSource {
  std::string kernel_image_path;
  std::optional<std::string> initrd_path;
  std::optional<std::string> boot_args;  // unset: kiln's default command line
};

struct MachineConfig {
  uint64_t vcpu_count = kDefaultVcpuCount;
  uint64_t mem_size_mib = kDefaultMemSizeMib;
  bool smt = false;
  // Unset for Firecracker's "None" (kiln's host default); else a kiln template name.
  std::optional<std::string> cpu_template;
  bool track_dirty_pages = false;
  std::string huge_pages = "None";
  std::optional<VirtioTransport> transport;  // kiln's: unset means virtio-mmio
};

// PATCH /machine-config: only the given fields change.
struct MachineConfigUpdate {
  std::optional<uint64_t> vcpu_count;
  std::optional<uint64_t> mem_size_mib;
  std::optional<std::optional<std::string>> cpu_template;  // set to "None" gives an empty inner value
  std::optional<VirtioTransport> transport;
};

struct Drive {
  std::string drive_id;
  std::string path_on_host;
  bool is_root_device = false;
  std::optional<std::string> partuuid;
  bool is_read_only = false;
  std::string cache_type = "Unsafe";
  std::string io_engine = "Sync";
  std::optional<VirtioTransport> transport;  // kiln's: unset means machine-config's
};

// PUT /entropy (swagger EntropyDevice: only a rate limiter, which kiln refuses).
struct Entropy {
  std::optional<VirtioTransport> transport;  // kiln's
};

// PATCH /drives/{id}.
struct DriveUpdate {
  std::string drive_id;
  std::optional<std::string> path_on_host;
};

struct LoggerConfig {
  std::optional<std::string> log_path;
  std::string level = "Info";  // Error, Warning, Info, Debug, Trace or Off
  bool show_level = false;
  bool show_log_origin = false;
};

struct MetricsConfig {
  std::string metrics_path;
};

enum class Action { kInstanceStart, kSendCtrlAltDel, kFlushMetrics };

// Each parser names the offending field; messages carry no resource prefix.
[[nodiscard]] Result<BootSource> parse_boot_source(const Json& body);
[[nodiscard]] Result<MachineConfig> parse_machine_config(const Json& body);
[[nodiscard]] Result<MachineConfigUpdate> parse_machine_config_update(const Json& body);
[[nodiscard]] Result<Drive> parse_drive(const Json& body);
[[nodiscard]] Result<DriveUpdate> parse_drive_update(const Json& body);
// PUT /network-interfaces/{id}; PATCH (rate limiters only in Firecracker): the iface_id.
[[nodiscard]] Result<NetConfig> parse_network_interface(const Json& body);
[[nodiscard]] Result<std::string> parse_network_interface_update(const Json& body);
[[nodiscard]] Result<Entropy> parse_entropy(const Json& body);
[[nodiscard]] Result<VsockConfig> parse_vsock(const Json& body);
[[nodiscard]] Result<LoggerConfig> parse_logger(const Json& body);
[[nodiscard]] Result<MetricsConfig> parse_metrics(const Json& body);
[[nodiscard]] Result<Action> parse_action(const Json& body);
[[nodiscard]] Result<bool> parse_vm_state(const Json& body);  // true: Paused, false: Resumed
[[nodiscard]] Result<SnapshotCreateParams> parse_snapshot_create(const Json& body);
[[nodiscard]] Result<SnapshotLoadParams> parse_snapshot_load(const Json& body);

// Firecracker's resource ids: not empty, alphanumeric or '_'.
[[nodiscard]] Status check_resource_id(std::string_view id);
// `rate_limiter` and friends: kiln does not rate-limit yet, so only absent or null is accepted.
[[nodiscard]] Status check_no_rate_limiter(const JsonObject& object, std::string_view key);
// kiln's `transport` field: absent or null, "mmio" or "pci".
[[nodiscard]] Result<std::optional<VirtioTransport>> optional_transport(const JsonObject& object);
// Adds `transport` to `j` when set.
void add_transport(Json& j, const std::optional<VirtioTransport>& transport);

[[nodiscard]] Json to_json(const BootSource& boot);
[[nodiscard]] Json to_json(const MachineConfig& machine);
[[nodiscard]] Json to_json(const Drive& drive);
[[nodiscard]] Json to_json(const NetConfig& net);
[[nodiscard]] Json to_json(const LoggerConfig& logger);
[[nodiscard]] Json to_json(const MetricsConfig& metrics);
[[nodiscard]] Json to_json(const VsockConfig& vsock);
[[nodiscard]] Json to_json(const Entropy& entropy);

}  // namespace kiln::api
