// kiln's control API: Firecracker's REST API (swagger firecracker.yaml) on a unix socket, for the
// operations kiln supports. Requests are served one at a time on the server's thread; the VMM is
// reached only through VmmController. Replies: 204 (no body) or 200 with JSON on success; 400 with
// {"fault_message": "..."} otherwise, also for unknown paths, bad JSON, unknown or missing fields
// and requests the VM's state does not allow.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "api/vm_resources.h"
#include "common/unique_fd.h"
#include "vmm/vmm_controller.h"

namespace kiln::api {

class UnixHttpServer;

struct ApiOptions {
  std::string instance_id = "anonymous-instance";  // GET / "id" (Firecracker's --id default)
  std::string vmm_version = "0.1";                 // GET / "vmm_version", GET /version
  size_t max_payload_bytes = 51200;                // Firecracker's default request body limit
  std::chrono::milliseconds io_timeout{5000};      // a client stalled mid-request is dropped after this
  std::optional<HostLimits> host;                  // unset: query_host_limits()
  // What the VM already is (booted from the command line or a config file): GET /vm/config shows
  // it and PATCH /drives finds its drives. Unset: the API starts empty.
  std::optional<VmResources> preconfigured;
};

class ApiServer {
 public:
  // Binds `socket_path` (a stale socket file is replaced, a live one refused) and starts serving.
  [[nodiscard]] static Result<std::unique_ptr<ApiServer>> start(const std::string& socket_path, VmmController& vmm,
                                                                ApiOptions options);
  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;
  // Stops serving, closes every connection and removes the socket file.
  ~ApiServer();

 private:
  using Reply = Result<std::optional<Json>>;  // nullopt: 204 No Content
  ApiServer(VmmController& vmm, ApiOptions options);
  void add_routes();
  Status open_metrics(const MetricsConfig& metrics);
  // Once InstanceStart or a snapshot load succeeded, the VM counts as started even before the
  // controller reports it running.
  [[nodiscard]] bool booted() const { return started_ || vmm_.state() != VmState::kNotStarted; }

  // api_server.cpp: GET requests.
  Reply instance_info() const;
  // api_preboot.cpp: configuration before InstanceStart.
  Reply put_boot_source(const Json& body);
  Reply put_machine_config(const Json& body);
  Reply patch_machine_config(const Json& body);
  Reply put_drive(const Json& body, const std::string& path_id);
  Reply put_network_interface(const Json& body, const std::string& path_id);
  Reply put_entropy(const Json& body);
  Reply put_vsock(const Json& body);
  Reply put_logger(const Json& body);
  Reply put_metrics(const Json& body);
  Reply load_snapshot(const Json& body);
  Reply instance_start();
  // api_runtime.cpp: a started VM.
  Reply put_action(const Json& body);
  Reply patch_vm(const Json& body);
  Reply patch_drive(const Json& body, const std::string& path_id);
  Reply patch_network_interface(const Json& body, const std::string& path_id);
  Reply create_snapshot(const Json& body);
  Reply flush_metrics();

  VmmController& vmm_;
  ApiOptions options_;
  HostLimits host_;
  VmResources resources_;
  UniqueFd metrics_file_;
  bool started_ = false;
  std::unique_ptr<UnixHttpServer> http_;
};

}  // namespace kiln::api
