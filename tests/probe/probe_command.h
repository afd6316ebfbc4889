// Command lines that boot kiln-probe: under kiln (kvm_test_env.h's kiln_run) or under QEMU
// microvm, so that the same probe and harness check two VMMs.
#pragma once

#include <string>
#include <vector>

namespace kiln::test {

// The qemu-system-x86_64 to use: $KILN_QEMU if set, else `configured` (found at configure
// time, may be empty); "" if that is not an executable file.
[[nodiscard]] std::string find_qemu(const std::string& configured);

// qemu-system-x86_64 -accel ACCEL -M microvm ... -kernel PROBE -append CMDLINE -no-reboot, with an
// i8042 (microvm has none) so that the probe's reset ends QEMU; COM1 on stdout. `extra` goes
// before -kernel (e.g. {"-cpu", "host"}).
[[nodiscard]] std::vector<std::string> qemu_probe_argv(const std::string& qemu, const std::string& accel,
                                                       const std::string& probe, const std::string& cmdline,
                                                       const std::vector<std::string>& extra = {});

}  // namespace kiln::test
