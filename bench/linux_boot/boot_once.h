// One boot of the guest kit's agent under one VMM, measured from outside:
//   spawn to "KILN-GUEST-READY <uptime>" on the console (host clock), and that uptime;
//   the VMM's memory right then (PSS, and PSS minus the guest RAM mapping's PSS), while the
//   agent's shell (kiln.shell=1) waits on the console;
//   then "exit" is typed, the guest resets, and the VMM's own counters are read after it ends:
//   kiln's exit and emulation log lines, or the kvm_run_exit lines of QEMU's trace log.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"

namespace kiln::bench {

// Where a boot's exit counts come from.
enum class Counters {
  kKilnLog,    // kiln's log lines on stderr
  kQemuTrace,  // the kvm_run_exit lines QEMU (-trace kvm_run_exit -D FILE) wrote to trace_file
  kNone,       // QEMU without the trace: the run measures time and memory only
};

struct BootSpec {
  std::string vmm;                 // "kiln" or "QEMU", for messages
  std::vector<std::string> argv;
  uint64_t guest_bytes = 0;        // tells the guest RAM mapping in /proc/PID/smaps
  Counters counters = Counters::kNone;
  std::string trace_file;
  std::chrono::milliseconds ready_timeout{120000};
  std::chrono::milliseconds exit_timeout{60000};
};

struct ExitCount {
  uint64_t total = 0;
  std::string by_reason;  // "io 1200, mmio 30, ..."
};

struct BootFigures {
  double ready_ms = 0;
  std::optional<double> uptime_s;
  std::optional<double> own_pss_mib;
  std::optional<double> total_pss_mib;
  std::optional<ExitCount> exits;
  std::optional<uint64_t> emulated;  // kiln only
  std::string emulated_list;         // "popcnt 3, int3 1" or "none"
};

// An error says where the guest stopped: the console's and the VMM's last lines.
[[nodiscard]] Result<BootFigures> boot_once(const BootSpec& spec);

// kiln's "vCPU exits to kiln: N (reasons); per vCPU ..." line, if `log` has one.
[[nodiscard]] std::optional<ExitCount> kiln_exits(const std::string& log);
// kiln's "instructions kiln emulated for KVM: popcnt 3, ..." line: the total (0 without the line)
// and the list ("none" without it).
[[nodiscard]] uint64_t kiln_emulated(const std::string& log, std::string& list);
// QEMU's trace log: one "kvm_run_exit cpu_index C, reason R" line per exit; nullopt when none.
[[nodiscard]] std::optional<ExitCount> qemu_exits(const std::string& trace);

}  // namespace kiln::bench
