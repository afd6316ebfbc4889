// `kiln run` options: parsed by CLI11, then validated into a VmConfig with errors that name the flag.
#pragma once

#include <string>
#include <vector>

#include "cli/vm_config_check.h"
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

// Parses one --disk value.
[[nodiscard]] Result<DiskConfig> parse_disk_spec(const std::string& spec);

[[nodiscard]] Result<VmConfig> validate_run_args(const RunArgs& args, const HostLimits& host);

}  // namespace kiln
