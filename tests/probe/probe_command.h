// Command lines that boot kiln-probe: under kiln (kvm_test_env.h's kiln_run) or under QEMU
// microvm, so that the same probe and harness check two VMMs; and the virtio devices of a run,
// described once and spelled for each VMM.
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

struct ProbeDisk {
  std::string path;
  bool readonly = false;
  std::string serial;  // empty: none
};

// Virtio devices of one run, in kiln's order (disks, then rng, then console), which both VMMs
// get in that order.
struct ProbeDevices {
  std::vector<ProbeDisk> disks;
  bool rng = false;
  bool console = false;  // virtio console, port 0
};

// kiln run flags: --disk PATH[,readonly][,serial=ID] per disk, --rng, --console virtio. kiln
// appends the virtio_mmio.device= entries to the command line itself.
[[nodiscard]] std::vector<std::string> kiln_device_args(const ProbeDevices& devices);

// Like qemu_probe_argv, with the devices on virtio-mmio (legacy, QEMU's default for
// virtio-mmio) and microvm's ACPI off, so that QEMU appends a virtio_mmio.device= entry for each
// one to the command line (with ACPI on it does not, and a PVH guest would not find them). The
// console shares stdout with COM1 through a mux chardev.
[[nodiscard]] std::vector<std::string> qemu_probe_argv(const std::string& qemu, const std::string& accel,
                                                       const std::string& probe, const std::string& cmdline,
                                                       const ProbeDevices& devices);

// QEMU's PC machine (i440FX, SeaBIOS assigns the BARs, its own i8042) with the disks and the rng
// as legacy virtio-PCI functions (disable-modern=on: I/O BAR 0 only) on bus 0, in order from
// slot 2. No console. For probe=virtio-pci.
[[nodiscard]] std::vector<std::string> qemu_pc_probe_argv(const std::string& qemu, const std::string& accel,
                                                          const std::string& probe, const std::string& cmdline,
                                                          const ProbeDevices& devices);

}  // namespace kiln::test
