// What a VM is made of, as validated by the command line (or, later, the API).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "arch/x86_64/platform/cpu_features.h"

namespace kiln {

struct VmConfig {
  std::string kernel_path;
  std::optional<std::string> initrd_path;
  std::string cmdline = "console=ttyS0 reboot=k panic=1";
  uint64_t memory_bytes = 256ull << 20;
  uint32_t vcpus = 1;
  std::optional<std::string> cpu_template;          // unset: "pvm" on kvm_pvm hosts, else "none"
  std::vector<x86::FeatureOverride> cpu_features;  // applied after the template, in order
};

}  // namespace kiln
