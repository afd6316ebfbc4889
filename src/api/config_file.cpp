#include "api/config_file.h"

#include <array>

#include "common/file.h"
#include "common/log.h"

namespace kiln::api {
namespace {

// A config file is a few KiB; anything near this is not one.
constexpr uint64_t kMaxConfigFileBytes = 1 << 20;

// Sections of Firecracker's config file that name devices kiln does not have yet: accepted only
// when empty (null, or an empty list).
constexpr std::array<std::string_view, 6> kAbsentDevices = {"balloon", "mmds-config", "cpu-config",
                                                             "pmem",    "serial",      "memory-hotplug"};

std::string_view device_noun(std::string_view section) {
  if (section == "balloon") return "kiln has no balloon device yet";
  if (section == "pmem") return "kiln has no pmem device yet";
  if (section == "memory-hotplug") return "kiln has no memory hotplug device yet";
  return "not supported by kiln yet";
}

template <typename T>
Result<T> in_section(std::string_view section, Result<T> r) {
  if (!r) return fail("{}: {}", section, r.error().message);
  return r;
}

Status configure(VmResources& r, const JsonObject& top, const HostLimits& host) {
  const Json* boot = top.optional_value("boot-source");
  if (boot == nullptr) return fail("missing field `boot-source`");
  auto boot_source = KILN_TRY_VALUE(in_section("boot-source", parse_boot_source(*boot)));
  KILN_TRY(in_section("boot-source", r.set_boot_source(std::move(boot_source))));
  if (const Json* m = top.optional_value("machine-config"); m != nullptr) {
    auto machine = KILN_TRY_VALUE(in_section("machine-config", parse_machine_config(*m)));
    KILN_TRY(in_section("machine-config", r.set_machine_config(machine, host)));
  }
  if (const Json* drives = top.optional_value("drives"); drives != nullptr) {
    if (!drives->is_array()) return fail("drives: invalid type, expected a list of drives");
    for (size_t i = 0; i < drives->size(); ++i) {
      const std::string where = fmt::format("drives[{}]", i);
      auto drive = KILN_TRY_VALUE(in_section(where, parse_drive((*drives)[i])));
      KILN_TRY(in_section(where, r.insert_drive(std::move(drive))));
    }
  }
  if (const Json* nets = top.optional_value("network-interfaces"); nets != nullptr) {
    if (!nets->is_array()) return fail("network-interfaces: invalid type, expected a list of network interfaces");
    for (size_t i = 0; i < nets->size(); ++i) {
      const std::string where = fmt::format("network-interfaces[{}]", i);
      auto net = KILN_TRY_VALUE(in_section(where, parse_network_interface((*nets)[i])));
      KILN_TRY(in_section(where, r.insert_network_interface(std::move(net))));
    }
  }
  if (const Json* e = top.optional_value("entropy"); e != nullptr) {
    auto entropy = KILN_TRY_VALUE(in_section("entropy", parse_entropy(*e)));
    r.set_entropy(entropy);
  }
  if (const Json* v = top.optional_value("vsock"); v != nullptr) {
    auto vsock = KILN_TRY_VALUE(in_section("vsock", parse_vsock(*v)));
    r.set_vsock(std::move(vsock));
  }
  if (const Json* l = top.optional_value("logger"); l != nullptr) {
    auto logger = KILN_TRY_VALUE(in_section("logger", parse_logger(*l)));
    r.set_logger(std::move(logger));
  }
  if (const Json* m = top.optional_value("metrics"); m != nullptr) {
    auto metrics = KILN_TRY_VALUE(in_section("metrics", parse_metrics(*m)));
    r.set_metrics(std::move(metrics));
  }
  for (const auto section : kAbsentDevices) {
    const Json* v = top.optional_value(section);
    if (v != nullptr && !(v->is_array() && v->empty())) return fail("{}: {}", section, device_noun(section));
  }
  return {};
}

}  // namespace

Result<VmResources> parse_config_file(std::string_view json, const HostLimits& host) {
  auto doc = KILN_TRY_VALUE(parse_json(json));
  auto top = KILN_TRY_VALUE(JsonObject::of(doc, {"boot-source", "machine-config", "drives", "entropy", "logger",
                                                  "metrics", "network-interfaces", "balloon", "vsock", "mmds-config",
                                                  "cpu-config", "pmem", "serial", "memory-hotplug"}));
  VmResources resources;
  KILN_TRY(configure(resources, top, host));
  return resources;
}

Status apply_logger(const LoggerConfig& logger) {
  if (logger.log_path) KILN_TRY(log_to_file(*logger.log_path));
  LogLevel level = LogLevel::kInfo;
  if (logger.level == "Off") level = LogLevel::kOff;
  if (logger.level == "Error") level = LogLevel::kError;
  if (logger.level == "Warning") level = LogLevel::kWarning;
  if (logger.level == "Debug") level = LogLevel::kDebug;
  if (logger.level == "Trace") level = LogLevel::kTrace;
  set_log_level(level);
  set_log_show_level(logger.show_level);
  return {};
}

Result<ConfigFile> load_config_file(const std::string& path, const HostLimits& host) {
  auto bytes = read_file(path, kMaxConfigFileBytes);
  if (!bytes) return fail("--config-file {}: {}", path, bytes.error().message);
  const std::string_view text(reinterpret_cast<const char*>(bytes->data()), bytes->size());
  auto resources = parse_config_file(text, host);
  if (!resources) return fail("--config-file {}: {}", path, resources.error().message);
  auto vm = resources->build(host);
  if (!vm) return fail("--config-file {}: {}", path, vm.error().message);
  // The logger was only checked so far: nothing is redirected when the file is refused.
  if (resources->logger()) KILN_TRY(apply_logger(*resources->logger()));
  return ConfigFile{std::move(*resources), std::move(*vm)};
}

}  // namespace kiln::api
