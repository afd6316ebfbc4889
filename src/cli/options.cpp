#include "cli/options.h"

#include <sys/stat.h>
#include <unistd.h>

#include "arch/x86_64/platform/cpu_features.h"
#include "cli/size.h"

namespace kiln {
namespace {

Status check_readable_file(const char* flag, const std::string& path) {
  if (path.empty()) return fail("{} needs a path", flag);
  struct stat st {};
  if (::stat(path.c_str(), &st) < 0) {
    return fail("{} {}: {} (check the path)", flag, path, std::strerror(errno));
  }
  if (!S_ISREG(st.st_mode)) return fail("{} {}: not a regular file", flag, path);
  if (::access(path.c_str(), R_OK) < 0) return fail("{} {}: not readable: {}", flag, path, std::strerror(errno));
  return {};
}

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

HostLimits query_host_limits() {
  const long pages = ::sysconf(_SC_PHYS_PAGES);
  const long page_size = ::sysconf(_SC_PAGESIZE);
  return {pages > 0 && page_size > 0 ? static_cast<uint64_t>(pages) * static_cast<uint64_t>(page_size) : 0};
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
  if (args.transport != "mmio") return fail("--transport {}: only 'mmio' exists so far", args.transport);
  for (const auto& spec : args.disks) {
    auto disk = parse_disk_spec(spec);
    if (!disk) return tl::unexpected(disk.error());
    if (disk->path.empty()) return fail("--disk needs a path");
    struct stat st {};
    if (::stat(disk->path.c_str(), &st) < 0) return fail("--disk {}: {} (check the path)", disk->path, std::strerror(errno));
    if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) return fail("--disk {}: not a regular file or block device", disk->path);
    config.disks.push_back(std::move(*disk));
  }
  config.rng = args.rng;

  auto bytes = parse_memory_size(args.memory);
  if (!bytes) return fail("--memory {}", bytes.error().message);
  if (*bytes < kMinMemoryBytes) {
    return fail("--memory {}: at least {} MiB is needed", args.memory, kMinMemoryBytes >> 20);
  }
  if (*bytes % 4096 != 0) return fail("--memory {}: must be a multiple of 4 KiB", args.memory);
  if (host.physical_memory_bytes != 0 && *bytes > host.physical_memory_bytes) {
    return fail("--memory {}: more than this host's {} MiB of RAM", args.memory, host.physical_memory_bytes >> 20);
  }
  config.memory_bytes = *bytes;

  if (args.cpus == 0) return fail("--cpus 0: a VM needs at least one vCPU");
  if (args.cpus > kMaxCpus) return fail("--cpus {}: kiln supports at most {} vCPUs", args.cpus, kMaxCpus);
  config.vcpus = args.cpus;

  if (!args.cpu_template.empty()) {
    auto tmpl = x86::find_cpu_template(args.cpu_template);
    if (!tmpl) return fail("--cpu-template {}", tmpl.error().message);
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
