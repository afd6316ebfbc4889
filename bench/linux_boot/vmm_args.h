// The two command lines of one linux_boot configuration: `kiln run` and QEMU microvm (PVH: the same
// vmlinux and initramfs, the same kernel command line), with the same CPU features hidden: kiln's
// --cpu-template, and QEMU's -cpu with "-flag" for each feature of that template QEMU knows.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"

namespace kiln::bench {

struct Setup {
  std::string kiln;
  std::string qemu;
  std::string qemu_cpu_base;  // e.g. "host,-arch-capabilities"
  std::string cpu_template;   // kiln's template name: "pvm" or "none"
  uint64_t memory_mib = 256;
  std::string append;         // more kernel command line for both
};

struct GuestSpec {
  std::string name;  // "kiln kernel" / "stock kernel"
  std::string kernel;
  std::string initrd;
  int cpus = 1;
};

// The command line both VMMs give the kernel: serial console, quiet, reset by triple fault (the
// same path in both), and the agent's shell so that the guest waits at KILN-GUEST-READY.
[[nodiscard]] std::string guest_cmdline(const Setup& s);

[[nodiscard]] std::vector<std::string> kiln_argv(const Setup& s, const GuestSpec& g);
// `cpu`: qemu_cpu()'s result; `trace_file`: non-empty for a run with -trace kvm_run_exit.
[[nodiscard]] std::vector<std::string> qemu_argv(const Setup& s, const GuestSpec& g, const std::string& cpu,
                                                 const std::string& trace_file);

// QEMU's -cpu value: the base and "-name" for each feature kiln's template hides that QEMU lists
// in `-cpu help` (matching ignores '-', '_' and '.'); `missing` gets the names it does not know.
[[nodiscard]] Result<std::string> qemu_cpu(const Setup& s, std::vector<std::string>& missing);

}  // namespace kiln::bench
