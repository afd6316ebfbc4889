#include "cli/options.h"

#include "arch/x86_64/platform/cpu_features.h"
#include "cli/size.h"

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
    } else if (part.rfind("serial=", 0) == 0) {
      disk.serial = part.substr(7);
      if (disk.serial.size() > kMaxDiskSerial) {
        return fail("--disk {}: serial '{}' is longer than {} bytes", spec, disk.serial, kMaxDiskSerial);
      }
      for (const char c : disk.serial) {
        if (c < 0x21 || c > 0x7e) return fail("--disk {}: serial may hold printable ASCII only", spec);
      }
    } else {
      return fail("--disk {}: unknown option '{}' (expected PATH[,readonly][,direct][,serial=ID])", spec, part);
    }
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  if (disk.path.empty()) return fail("--disk '{}': needs a path (PATH[,readonly][,direct][,serial=ID])", spec);
  return disk;
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
  if (args.console == "virtio") {
    config.console = ConsoleKind::kVirtio;
    config.cmdline = "console=hvc0 reboot=k panic=1";
  } else if (args.console != "serial") {
    return fail("--console {}: expected 'serial' or 'virtio'", args.console);
  }
  if (args.cmdline_given) config.cmdline = args.cmdline;
  if (args.transport == "pci") {
    config.virtio_transport = VirtioTransport::kPci;
  } else if (args.transport != "mmio") {
    return fail("--transport {}: expected 'mmio' (virtio-mmio) or 'pci' (legacy virtio-PCI)", args.transport);
  }
  for (const auto& spec : args.disks) {
    auto disk = parse_disk_spec(spec);
    if (!disk) return tl::unexpected(disk.error());
    if (disk->path.empty()) return fail("--disk needs a path");
    KILN_TRY(check_disk_path("--disk", disk->path));
    config.disks.push_back(std::move(*disk));
  }
  config.rng = args.rng;

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
