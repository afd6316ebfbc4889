// Requests for a started VM (Firecracker's RuntimeApiController): refused before InstanceStart.
#include <unistd.h>

#include <algorithm>

#include "api/api_replies.h"
#include "api/api_server.h"

namespace kiln::api {

ApiServer::Reply ApiServer::put_action(const Json& body) {
  auto action = KILN_TRY_VALUE(deserialized(parse_action(body)));
  switch (action) {
    case Action::kInstanceStart:
      return instance_start();
    case Action::kFlushMetrics:
      return flush_metrics();
    case Action::kSendCtrlAltDel:
      break;
  }
  if (!booted()) return fail("{}", kNotSupportedPreBoot);
  if (auto ok = vmm_.send_ctrl_alt_del(); !ok) return with_prefix("Internal VMM error", ok.error());
  return std::nullopt;
}

ApiServer::Reply ApiServer::patch_vm(const Json& body) {
  auto pause = KILN_TRY_VALUE(deserialized(parse_vm_state(body)));
  if (!booted()) return fail("{}", kNotSupportedPreBoot);
  if (auto ok = pause ? vmm_.pause() : vmm_.resume(); !ok) return with_prefix("Internal VMM error", ok.error());
  return std::nullopt;
}

ApiServer::Reply ApiServer::patch_drive(const Json& body, const std::string& path_id) {
  KILN_TRY(check_resource_id(path_id));
  auto update = KILN_TRY_VALUE(deserialized(parse_drive_update(body)));
  if (update.drive_id != path_id) return fail("The id from the path does not match the id from the body!");
  if (!booted()) return fail("{}", kNotSupportedPreBoot);
  const auto index = resources_.drive_index(update.drive_id);
  if (!index) return fail("Drive config error: no drive with id `{}`", update.drive_id);
  if (!update.path_on_host) return std::nullopt;  // nothing to change
  if (auto ok = check_disk_path("path_on_host", *update.path_on_host); !ok) return with_prefix("Drive config error", ok.error());
  if (auto ok = vmm_.update_drive(*index, *update.path_on_host); !ok) {
    return fail("Drive config error: Unable to patch the block device: {}", ok.error().message);
  }
  resources_.set_drive_path(*index, std::move(*update.path_on_host));
  return std::nullopt;
}

ApiServer::Reply ApiServer::patch_network_interface(const Json& body, const std::string& path_id) {
  KILN_TRY(check_resource_id(path_id));
  auto id = KILN_TRY_VALUE(deserialized(parse_network_interface_update(body)));
  if (id != path_id) return fail("The id from the path does not match the id from the body!");
  if (!booted()) return fail("{}", kNotSupportedPreBoot);
  const auto& nets = resources_.network_interfaces();
  if (std::none_of(nets.begin(), nets.end(), [&](const NetConfig& n) { return n.id == id; })) {
    return fail("Network interface update error: no network interface with id `{}`", id);
  }
  return std::nullopt;  // only rate limiters are patchable, and kiln has none: nothing changes
}

ApiServer::Reply ApiServer::create_snapshot(const Json& body) {
  auto params = KILN_TRY_VALUE(deserialized(parse_snapshot_create(body)));
  if (!booted()) return fail("{}", kNotSupportedPreBoot);
  if (vmm_.state() != VmState::kPaused) {
    return fail("Create snapshot error: the microVM must be paused first (PATCH /vm with {{\"state\": \"Paused\"}}).");
  }
  if (auto ok = vmm_.create_snapshot(params); !ok) return with_prefix("Create snapshot error", ok.error());
  return std::nullopt;
}

ApiServer::Reply ApiServer::flush_metrics() {
  if (!booted()) return fail("{}", kNotSupportedPreBoot);
  if (!metrics_file_) return std::nullopt;  // nothing configured: nothing to write (as Firecracker)
  std::string line = vmm_.metrics_json();
  line.push_back('\n');
  for (size_t done = 0; done < line.size();) {
    const ssize_t n = ::write(metrics_file_.get(), line.data() + done, line.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return fail_errno("Metrics error: writing the metrics file");
    done += static_cast<size_t>(n);
  }
  return std::nullopt;
}

}  // namespace kiln::api
