// `kiln --config-file FILE`: Firecracker's config file, the JSON that GET /vm/config returns
// ("boot-source", "machine-config", "drives", "entropy", "logger", "metrics", ...), parsed with
// the API's own parsers and checks, so a VM can start without the API.
#pragma once

#include <string>
#include <string_view>

#include "api/vm_resources.h"

namespace kiln::api {

struct ConfigFile {
  VmResources resources;  // for ApiOptions::preconfigured when the API serves too
  VmConfig vm;            // what to boot
};

// Reads and checks the file, applies its "logger" section (as Firecracker does) and builds the VM.
[[nodiscard]] Result<ConfigFile> load_config_file(const std::string& path, const HostLimits& host);

// The checking part, without files or logging: the document -> resources. Messages name the
// section and field ("drives[1]: missing field `path_on_host`").
[[nodiscard]] Result<VmResources> parse_config_file(std::string_view json, const HostLimits& host);

// PUT /logger and the config file's "logger": sends kiln's log lines where it says.
[[nodiscard]] Status apply_logger(const LoggerConfig& logger);

}  // namespace kiln::api
