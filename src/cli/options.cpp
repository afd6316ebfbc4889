#include "cli/options.h"

#include <cerrno>
#include <cstdlib>

#include "arch/x86_64/platform/cpu_features.h"
#include "config/size.h"

namespace kiln {
namespace {

// The longest serial VIRTIO_BLK_T_GET_ID can return (VIRTIO_BLK_ID_BYTES).
constexpr size_t kMaxDiskSerial = 20;

}  // namespace

Result<DiskConfig> parse_disk_spec(const std::string& spec) {
  DiskConfig disk;
  size_t start = 0;
  bool first = true;
  while (start <= spec.size()) {
    const size_t comma = spec.find(',', start);
    const std::string part = spec.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (first) {
      disk.path = part;
      first = false;
    } else if (part == "readonly" || part == "ro") {
      disk.readonly = true;
    } else if (part == "direct") {
      disk.direct = true;
    } else if (part.starts_with(kTransportKey)) {
      disk.transport = KILN_TRY_VALUE(
          parse_virtio_transport(fmt::format("--disk {}: transport", spec), part.substr(kTransportKey.size())));
    } else if (part.rfind("serial=", 0) == 0) {
      disk.serial = part.substr(7);
      if (disk.serial.size() > kMaxDiskSerial) {
        return fail("--disk {}: serial '{}' is longer than {} bytes", spec, disk.serial, kMaxDiskSerial);
      }
      for (const char c : disk.serial) {
        if (c < 0x21 || c > 0x7e) return fail("--disk {}: serial may hold printable ASCII only", spec);
      }
    } else {
      return fail("--disk {}: unknown option '{}' (expected PATH[,readonly][,direct][,serial=ID][,transport=mmio|pci])",
                  spec, part);
    }
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  if (disk.path.empty()) return fail("--disk '{}': needs a path (PATH[,readonly][,direct][,serial=ID][,transport=mmio|pci])", spec);
  return disk;
}

Result<VsockConfig> parse_vsock_spec(const std::string& spec) {
  VsockConfig v;
  bool cid = false;
  size_t start = 0;
  while (start <= spec.size()) {
    const size_t comma = spec.find(',', start);
    const std::string part = spec.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (part.starts_with("cid=")) {
      const std::string digits = part.substr(4);
      char* end = nullptr;
      errno = 0;
      const unsigned long long n = std::strtoull(digits.c_str(), &end, 10);
      if (digits.empty() || *end != '\0' || errno != 0 || digits[0] == '-') return fail("--vsock {}: cid is not a number", spec);
      v.guest_cid = n;
      cid = true;
    } else if (part.starts_with("uds=")) {
      v.uds_path = part.substr(4);
    } else if (part.starts_with(kTransportKey)) {
      v.transport = KILN_TRY_VALUE(
          parse_virtio_transport(fmt::format("--vsock {}: transport", spec), part.substr(kTransportKey.size())));
    } else {
      return fail("--vsock {}: unknown option '{}' (expected cid=N,uds=PATH[,transport=mmio|pci])", spec, part);
    }
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  if (!cid) return fail("--vsock {}: needs cid=N (the guest's CID, 3 or more)", spec);
  KILN_TRY(check_vsock(fmt::format("--vsock {}", spec), v.guest_cid, v.uds_path));
  return v;
}

Result<std::optional<VirtioTransport>> parse_rng_spec(const std::string& spec) {
  if (spec.empty()) return std::optional<VirtioTransport>{};  // --rng alone
  if (!spec.starts_with(kTransportKey)) return fail("--rng {}: unknown option (expected --rng or --rng transport=mmio|pci)", spec);
  return std::optional<VirtioTransport>(
      KILN_TRY_VALUE(parse_virtio_transport(fmt::format("--rng {}: transport", spec), spec.substr(kTransportKey.size()))));
}

Result<ConsoleSpec> parse_console_spec(const std::string& spec) {
  ConsoleSpec console;
  const size_t comma = spec.find(',');
  const std::string kind = spec.substr(0, comma);
  if (kind == "virtio") {
    console.kind = ConsoleKind::kVirtio;
  } else if (kind != "serial") {
    return fail("--console {}: expected 'serial' or 'virtio[,transport=mmio|pci]'", spec);
  }
  if (comma == std::string::npos) return console;
  const std::string option = spec.substr(comma + 1);
  if (console.kind != ConsoleKind::kVirtio || !option.starts_with(kTransportKey)) {
    return fail("--console {}: unknown option '{}' (expected 'serial' or 'virtio[,transport=mmio|pci]')", spec, option);
  }
  console.transport = KILN_TRY_VALUE(
      parse_virtio_transport(fmt::format("--console {}: transport", spec), option.substr(kTransportKey.size())));
  return console;
}

Result<VmConfig> validate_run_args(const RunArgs& args, const HostLimits& host) {
  VmConfig config;
  if (args.kernel.empty()) return fail("--kernel is required: the path of a bzImage or vmlinux ELF to boot");
  KILN_TRY(check_readable_file("--kernel", args.kernel));
  config.kernel_path = args.kernel;
  if (!args.initrd.empty()) {
    KILN_TRY(check_readable_file("--initrd", args.initrd));
    config.initrd_path = args.initrd;
  }
  const ConsoleSpec console = KILN_TRY_VALUE(parse_console_spec(args.console));
  config.console = console.kind;
  config.console_transport = console.transport;
  if (console.kind == ConsoleKind::kVirtio) config.cmdline = "console=hvc0 reboot=k panic=1";
  if (args.cmdline_given) config.cmdline = args.cmdline;
  config.virtio_transport = KILN_TRY_VALUE(parse_virtio_transport("--transport", args.transport));
  for (const auto& spec : args.disks) {
    auto disk = KILN_TRY_VALUE(parse_disk_spec(spec));
    if (disk.path.empty()) return fail("--disk needs a path");
    KILN_TRY(check_disk_path("--disk", disk.path));
    config.disks.push_back(std::move(disk));
  }
  config.rng = args.rng;
  if (args.rng) config.rng_transport = KILN_TRY_VALUE(parse_rng_spec(args.rng_spec));
  for (const auto& spec : args.nets) {
    auto net = KILN_TRY_VALUE(parse_net_spec(spec, config.nets.size()));
    config.nets.push_back(std::move(net));
  }
  if (auto ok = check_net_configs(config.nets); !ok) return fail("--net: {}", ok.error().message);
  if (!args.vsock.empty()) {
    auto vsock = KILN_TRY_VALUE(parse_vsock_spec(args.vsock));
    config.vsock = std::move(vsock);
  }

  auto bytes = parse_memory_size(args.memory);
  if (!bytes) return fail("--memory {}", bytes.error().message);
  KILN_TRY(check_memory_bytes(fmt::format("--memory {}", args.memory), *bytes, host));
  config.memory_bytes = *bytes;

  KILN_TRY(check_vcpu_count(fmt::format("--cpus {}", args.cpus), args.cpus));
  config.vcpus = args.cpus;

  if (!args.cpu_template.empty()) {
    KILN_TRY(check_cpu_template("--cpu-template", args.cpu_template));
    config.cpu_template = args.cpu_template;
  }
  if (!args.cpu_features.empty()) {
    auto overrides = x86::parse_feature_overrides(args.cpu_features);
    if (!overrides) return fail("--cpu-feature {}", overrides.error().message);
    config.cpu_features = std::move(*overrides);
  }
  return config;
}

}  // namespace kiln
