// `kiln run` options: parsed by CLI11, then validated into a VmConfig with errors that name the flag.
#pragma once

#include <string>
#include <vector>

#include "common/result.h"
#include "vmm/vm_config.h"

namespace kiln {

struct RunArgs {
  std::string kernel;
  std::string initrd;
  std::string cmdline;
  bool cmdline_given = false;
  std::string memory = "256M";
  uint32_t cpus = 1;
  std::string cpu_template;  // empty: the host's default
  std::string cpu_features;  // "-cx16,+popcnt"
  std::vector<std::string> disks;  // "PATH[,readonly][,direct][,serial=ID]"
  std::string console = "serial";
  bool rng = false;
  std::string transport = "mmio";
};

struct HostLimits {
  uint64_t physical_memory_bytes = 0;
};

// Limits kiln enforces before touching KVM (the vCPU limit of the host's KVM is checked when it is opened).
inline constexpr uint64_t kMinMemoryBytes = 16ull << 20;
inline constexpr uint32_t kMaxCpus = 254;  // xAPIC ids 0..254 (255 is broadcast)

// Parses one --disk value.
[[nodiscard]] Result<DiskConfig> parse_disk_spec(const std::string& spec);

[[nodiscard]] Result<VmConfig> validate_run_args(const RunArgs& args, const HostLimits& host);
[[nodiscard]] HostLimits query_host_limits();

}  // namespace kiln
