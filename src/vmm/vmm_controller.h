// What the VMM offers the control API (api/ depends on this header alone, not on kiln_vmm). The
// API layer validates requests and keeps the pre-boot configuration; Vmm (vmm/vmm.h) implements
// this interface, the API's tests use a fake. Every call may come from the API thread while the
// VM runs on others, so implementations are thread-safe.
#pragma once

#include <optional>
#include <string>

#include "common/result.h"
#include "config/vm_config.h"

namespace kiln {

// Firecracker's instance states ("Not started", "Running", "Paused").
enum class VmState { kNotStarted, kRunning, kPaused };

struct SnapshotCreateParams {
  std::string snapshot_path;  // VM state
  std::string mem_file_path;  // guest memory
};

struct SnapshotLoadParams {
  std::string snapshot_path;
  std::string mem_file_path;
  bool resume_vm = false;  // run at once; otherwise the restored VM stays paused
  std::vector<NetTapOverride> network_overrides;  // an interface continues on another tap
  std::optional<std::string> vsock_uds_path;  // vsock_override.uds_path
};

class VmmController {
 public:
  virtual ~VmmController() = default;

  [[nodiscard]] virtual VmState state() const = 0;
  // InstanceStart: builds the VM from a complete configuration and runs it.
  [[nodiscard]] virtual Status start(const VmConfig& config) = 0;
  // PATCH /vm.
  [[nodiscard]] virtual Status pause() = 0;
  [[nodiscard]] virtual Status resume() = 0;
  // SendCtrlAltDel: the i8042 key sequence (the guest decides what to do with it).
  [[nodiscard]] virtual Status send_ctrl_alt_del() = 0;
  // PUT /snapshot/create: only while paused.
  [[nodiscard]] virtual Status create_snapshot(const SnapshotCreateParams& params) = 0;
  // PUT /snapshot/load: only before anything was configured or started. Returns the restored
  // VM's configuration (what GET /vm/config then shows).
  [[nodiscard]] virtual Result<VmConfig> load_snapshot(const SnapshotLoadParams& params) = 0;
  // PATCH /drives/{id} after start: the disk `index` (order of configuration) gets a new backing file.
  [[nodiscard]] virtual Status update_drive(size_t index, const std::string& path) = 0;
  // One JSON object of counters, written by FlushMetrics to the metrics file.
  [[nodiscard]] virtual std::string metrics_json() = 0;
};

}  // namespace kiln
