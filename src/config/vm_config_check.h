// Checks of a VM's configuration shared by every way of giving it: the command line (`what`
// names the flag and its value: "--memory 8M"), the API and the config file (`what` names the
// JSON field: "mem_size_mib 8"). Messages start with `what`.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace kiln {

struct HostLimits {
  uint64_t physical_memory_bytes = 0;  // 0: unknown, not checked
};

// Limits kiln enforces before touching KVM (the vCPU limit of the host's KVM is checked when it is opened).
inline constexpr uint64_t kMinMemoryBytes = 16ull << 20;
inline constexpr uint32_t kMaxCpus = 254;  // xAPIC ids 0..254 (255 is broadcast)

[[nodiscard]] HostLimits query_host_limits();

// A kernel or initrd: a readable regular file.
[[nodiscard]] Status check_readable_file(std::string_view what, const std::string& path);
// A disk image: a regular file or a block device.
[[nodiscard]] Status check_disk_path(std::string_view what, const std::string& path);
[[nodiscard]] Status check_memory_bytes(std::string_view what, uint64_t bytes, const HostLimits& host);
[[nodiscard]] Status check_vcpu_count(std::string_view what, uint64_t count);
// A vsock device: a guest CID of 3 to 2^32 - 2 (vsock(7)) and a unix socket path that fits
// sockaddr_un with room for "_<port>" (the guest-initiated sockets).
[[nodiscard]] Status check_vsock(std::string_view what, uint64_t guest_cid, const std::string& uds_path);
// A kiln CPU template name ("none", "pvm").
[[nodiscard]] Status check_cpu_template(std::string_view what, std::string_view name);

}  // namespace kiln
