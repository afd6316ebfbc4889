// Boots the kiln guest kernel + initramfs (guest/ kit) under kiln and talks to its /init agent.
#pragma once

#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "child_process.h"
#include "kvm_test_env.h"
#include "host_files.h"

namespace kiln::test {

// Skips loudly without /dev/kvm (kvm_test_env.h) or without the guest kit.
#define KILN_REQUIRE_GUEST_KIT(kit)                                                                   \
  KILN_REQUIRE_KVM();                                                                                 \
  if (!guest_kit(kit)) {                                                                              \
    std::fprintf(stderr, "\n*** SKIPPED: KILN_GUEST_KERNEL/KILN_GUEST_INITRD not set: run the Linux " \
                         "tests through scripts/dev test, which builds the guest kit ***\n\n");        \
    GTEST_SKIP() << "no guest kit";                                                                   \
  }


struct GuestKit {
  std::string kernel;
  std::string initrd;
};

// From KILN_GUEST_KERNEL / KILN_GUEST_INITRD (set by scripts/dev test after guest/build-*).
bool guest_kit(GuestKit& kit);

// A stock kernel's kit from `kernel_env` / `initrd_env`, which scripts/dev test sets to the vmlinux and
// initramfs.cpio of `guest/build-stock flavour`. Where /dev/kvm exists a missing kit is a broken set-up:
// ASSERT_TRUE(stock_kit(...)) fails, it does not skip.
::testing::AssertionResult stock_kit(const char* kernel_env, const char* initrd_env, const char* flavour,
                                     GuestKit& kit);

struct AgentRun {
  ChildResult vmm;
  bool ready = false;          // KILN-GUEST-READY seen
  std::string output;          // between KILN-CMD-BEGIN and KILN-CMD-END
  int status = -1;             // the command's exit status
};

struct GuestOptions {
  int cpus = 1;
  std::string memory = "256M";
  std::string console = "console=ttyS0";  // the first words of the command line
  std::vector<std::string> kiln_args;     // more `kiln run` flags: --disk, --rng, --console ...
  std::string extra_cmdline;              // appended to the command line
  std::vector<ArchiveFile> files;         // added to the initramfs (a newc archive appended to a copy)
};

// The kernel command line is at most 2047 bytes on x86 (COMMAND_LINE_SIZE); kiln appends its
// virtio_mmio.device= entries (~36 bytes each) to ours. Longer scripts go in GuestOptions::files.
inline constexpr size_t kMaxTestCmdline = 1700;

// What every agent run is checked for first: kiln ended in time and the guest reached
// KILN-GUEST-READY (fatal failures: nothing else can be checked then), kiln exited with 0 and so did
// the command. Use as ASSERT_NO_FATAL_FAILURE(expect_agent_ran(run)).
void expect_agent_ran(const AgentRun& run);

// The agent's markers in a finished VMM's output: READY, the command's output and its status.
AgentRun agent_run_of(ChildResult vmm);

// Runs `command` through the agent (kiln.cmd=<base64>).
AgentRun run_in_guest(const GuestKit& kit, const std::string& command, const GuestOptions& options);
AgentRun run_in_guest(const GuestKit& kit, const std::string& command, int cpus, const std::string& memory,
                      const std::string& extra_cmdline = "");

// The kernel command line run_in_guest() gives the agent for `command`.
std::string agent_cmdline(const std::string& command, const GuestOptions& options);

// The argv of `kiln run` for `options` with `cmdline` (console + the rest) and `initrd`.
std::vector<std::string> kiln_guest_argv(const GuestKit& kit, const std::string& initrd, const std::string& cmdline,
                                         const GuestOptions& options);

// Copies the kit's initramfs to `path` with `files` appended as a second newc archive.
bool write_extended_initrd(const GuestKit& kit, const std::vector<ArchiveFile>& files, const std::string& path);

// "@key=value" lines of a command's output (the convention of the guest scripts), '\r' dropped.
std::map<std::string, std::string> guest_values(const std::string& output);

std::string base64(const std::string& text);

}  // namespace kiln::test
