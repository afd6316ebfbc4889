// Boots the kiln guest kernel + initramfs (guest/ kit) under kiln and talks to its /init agent.
#pragma once

#include <string>

#include "child_process.h"

namespace kiln::test {

struct GuestKit {
  std::string kernel;
  std::string initrd;
};

// From KILN_GUEST_KERNEL / KILN_GUEST_INITRD (set by scripts/dev test after guest/build-*).
bool guest_kit(GuestKit& kit);

struct AgentRun {
  ChildResult vmm;
  bool ready = false;          // KILN-GUEST-READY seen
  std::string output;          // between KILN-CMD-BEGIN and KILN-CMD-END
  int status = -1;             // the command's exit status
};

// Runs `command` through the agent (kiln.cmd=<base64>).
AgentRun run_in_guest(const GuestKit& kit, const std::string& command, int cpus, const std::string& memory,
                      const std::string& extra_cmdline = "");

std::string base64(const std::string& text);

}  // namespace kiln::test
