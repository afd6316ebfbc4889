#include "config/vm_config_check.h"

#include <sys/stat.h>
#include <unistd.h>

#include "arch/x86_64/platform/cpu_features.h"

namespace kiln {

HostLimits query_host_limits() {
  const long pages = ::sysconf(_SC_PHYS_PAGES);
  const long page_size = ::sysconf(_SC_PAGESIZE);
  return {pages > 0 && page_size > 0 ? static_cast<uint64_t>(pages) * static_cast<uint64_t>(page_size) : 0};
}

Status check_readable_file(std::string_view what, const std::string& path) {
  if (path.empty()) return fail("{} needs a path", what);
  struct stat st {};
  if (::stat(path.c_str(), &st) < 0) {
    return fail("{} {}: {} (check the path)", what, path, std::strerror(errno));
  }
  if (!S_ISREG(st.st_mode)) return fail("{} {}: not a regular file", what, path);
  if (::access(path.c_str(), R_OK) < 0) return fail("{} {}: not readable: {}", what, path, std::strerror(errno));
  return {};
}

Status check_disk_path(std::string_view what, const std::string& path) {
  if (path.empty()) return fail("{} needs a path", what);
  struct stat st {};
  if (::stat(path.c_str(), &st) < 0) return fail("{} {}: {} (check the path)", what, path, std::strerror(errno));
  if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) return fail("{} {}: not a regular file or block device", what, path);
  return {};
}

Status check_vsock(std::string_view what, uint64_t guest_cid, const std::string& uds_path) {
  if (guest_cid < 3 || guest_cid > 0xfffffffeull) return fail("{}: guest CID {} is reserved (use 3 to 4294967294)", what, guest_cid);
  // sun_path holds 108 bytes with the NUL; "_4294967295" is 11 more.
  if (uds_path.empty()) return fail("{}: needs a unix socket path", what);
  if (uds_path.size() > 107 - 11) return fail("{}: unix socket path {} is longer than 96 bytes", what, uds_path);
  return {};
}

Status check_memory_bytes(std::string_view what, uint64_t bytes, const HostLimits& host) {
  if (bytes < kMinMemoryBytes) return fail("{}: at least {} MiB is needed", what, kMinMemoryBytes >> 20);
  if (bytes % 4096 != 0) return fail("{}: must be a multiple of 4 KiB", what);
  if (host.physical_memory_bytes != 0 && bytes > host.physical_memory_bytes) {
    return fail("{}: more than this host's {} MiB of RAM", what, host.physical_memory_bytes >> 20);
  }
  return {};
}

Status check_vcpu_count(std::string_view what, uint64_t count) {
  if (count == 0) return fail("{}: a VM needs at least one vCPU", what);
  if (count > kMaxCpus) return fail("{}: kiln supports at most {} vCPUs", what, kMaxCpus);
  return {};
}

Status check_cpu_template(std::string_view what, std::string_view name) {
  auto tmpl = x86::find_cpu_template(name);
  if (!tmpl) return fail("{}: {}", what, tmpl.error().message);
  return {};
}

}  // namespace kiln
