// `kiln run` options: parsed by CLI11, then validated into a VmConfig with errors that name the flag.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "config/vm_config.h"
#include "config/vm_config_check.h"

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
  std::vector<std::string> disks;  // "PATH[,readonly][,direct][,serial=ID][,transport=mmio|pci]"
  std::string console = "serial";  // or "virtio[,transport=mmio|pci]"
  bool rng = false;
  std::string rng_spec;  // --rng's optional value: "" or "transport=mmio|pci"
  std::string transport = "mmio";  // the machine's default
  std::vector<std::string> nets;  // "tap=NAME[,mac=MAC][,id=ID][,transport=mmio|pci]"
  std::string vsock;  // "cid=N,uds=PATH[,transport=mmio|pci]"
};

// --console's value: where stdin goes, and the virtio console's own transport.
struct ConsoleSpec {
  ConsoleKind kind = ConsoleKind::kSerial;
  std::optional<VirtioTransport> transport;
};

// Parses the --vsock value.
[[nodiscard]] Result<VsockConfig> parse_vsock_spec(const std::string& spec);

// Parses one --disk value.
[[nodiscard]] Result<DiskConfig> parse_disk_spec(const std::string& spec);
// --rng's optional value ("" for --rng alone): the rng's own transport, if given.
[[nodiscard]] Result<std::optional<VirtioTransport>> parse_rng_spec(const std::string& spec);
[[nodiscard]] Result<ConsoleSpec> parse_console_spec(const std::string& spec);

[[nodiscard]] Result<VmConfig> validate_run_args(const RunArgs& args, const HostLimits& host);

}  // namespace kiln
