// Requests that configure the VM before InstanceStart (Firecracker's PrebootApiController): each
// is refused once the VM runs, and /snapshot/load is refused once any of them succeeded.
#include "api/api_replies.h"
#include "api/api_server.h"
#include "api/config_file.h"

namespace kiln::api {

ApiServer::Reply ApiServer::put_boot_source(const Json& body) {
  auto boot = KILN_TRY_VALUE(deserialized(parse_boot_source(body)));
  if (booted()) return fail("{}", kNotSupportedPostBoot);
  if (auto ok = resources_.set_boot_source(std::move(boot)); !ok) return with_prefix("Boot source error", ok.error());
  return std::nullopt;
}

ApiServer::Reply ApiServer::put_machine_config(const Json& body) {
  auto machine = KILN_TRY_VALUE(deserialized(parse_machine_config(body)));
  if (booted()) return fail("{}", kNotSupportedPostBoot);
  if (auto ok = resources_.set_machine_config(machine, host_); !ok) return with_prefix("Machine config error", ok.error());
  return std::nullopt;
}

ApiServer::Reply ApiServer::patch_machine_config(const Json& body) {
  auto update = KILN_TRY_VALUE(deserialized(parse_machine_config_update(body)));
  if (body.empty()) return fail("Empty PATCH request.");
  if (booted()) return fail("{}", kNotSupportedPostBoot);
  if (auto ok = resources_.update_machine_config(update, host_); !ok) return with_prefix("Machine config error", ok.error());
  return std::nullopt;
}

ApiServer::Reply ApiServer::put_drive(const Json& body, const std::string& path_id) {
  KILN_TRY(check_resource_id(path_id));
  auto drive = KILN_TRY_VALUE(deserialized(parse_drive(body)));
  if (drive.drive_id != path_id) return fail("The id from the path does not match the id from the body!");
  if (booted()) return fail("{}", kNotSupportedPostBoot);
  if (auto ok = resources_.insert_drive(std::move(drive)); !ok) return with_prefix("Drive config error", ok.error());
  return std::nullopt;
}

ApiServer::Reply ApiServer::put_network_interface(const Json& body, const std::string& path_id) {
  KILN_TRY(check_resource_id(path_id));
  auto net = KILN_TRY_VALUE(deserialized(parse_network_interface(body)));
  if (net.id != path_id) return fail("The id from the path does not match the id from the body!");
  if (booted()) return fail("{}", kNotSupportedPostBoot);
  if (auto ok = resources_.insert_network_interface(std::move(net)); !ok) {
    return with_prefix("Network interface config error", ok.error());
  }
  return std::nullopt;
}

ApiServer::Reply ApiServer::put_entropy(const Json& body) {
  auto entropy = KILN_TRY_VALUE(deserialized(parse_entropy(body)));
  if (booted()) return fail("{}", kNotSupportedPostBoot);
  resources_.set_entropy(entropy);
  return std::nullopt;
}

ApiServer::Reply ApiServer::put_vsock(const Json& body) {
  auto vsock = KILN_TRY_VALUE(deserialized(parse_vsock(body)));
  if (booted()) return fail("{}", kNotSupportedPostBoot);
  resources_.set_vsock(std::move(vsock));
  return std::nullopt;
}

ApiServer::Reply ApiServer::put_logger(const Json& body) {
  auto logger = KILN_TRY_VALUE(deserialized(parse_logger(body)));
  if (booted()) return fail("{}", kNotSupportedPostBoot);
  if (auto ok = apply_logger(logger); !ok) return with_prefix("Logger error", ok.error());
  resources_.set_logger(std::move(logger));
  return std::nullopt;
}

ApiServer::Reply ApiServer::put_metrics(const Json& body) {
  auto metrics = KILN_TRY_VALUE(deserialized(parse_metrics(body)));
  if (booted()) return fail("{}", kNotSupportedPostBoot);
  if (metrics_file_) return fail("Metrics error: Reinitialization of metrics not allowed.");
  if (auto ok = open_metrics(metrics); !ok) return with_prefix("Metrics error", ok.error());
  resources_.set_metrics(std::move(metrics));
  return std::nullopt;
}

ApiServer::Reply ApiServer::load_snapshot(const Json& body) {
  auto params = KILN_TRY_VALUE(deserialized(parse_snapshot_load(body)));
  if (booted()) return fail("{}", kNotSupportedPostBoot);
  if (resources_.boot_specific_configured()) {
    return fail("Load snapshot error: Loading a microVM snapshot not allowed after configuring boot-specific resources.");
  }
  auto loaded = vmm_.load_snapshot(params);
  if (!loaded) return with_prefix("Load snapshot error", loaded.error());
  resources_.adopt_vm_config(*loaded);
  started_ = true;
  return std::nullopt;
}

ApiServer::Reply ApiServer::instance_start() {
  if (booted()) return fail("{}", kNotSupportedPostBoot);
  auto config = resources_.build(host_);
  if (!config) return with_prefix("Start microvm error", config.error());
  if (auto ok = vmm_.start(*config); !ok) return with_prefix("Start microvm error", ok.error());
  started_ = true;
  return std::nullopt;
}

}  // namespace kiln::api
