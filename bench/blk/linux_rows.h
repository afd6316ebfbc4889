// The Linux part of blk_bench: the kiln guest kernel + initramfs (guest/ kit) boot once per VMM
// with the bench image as vda and 4 vCPUs, and the /init agent (kiln.cmd=<base64>) runs
// `dd if=/dev/vda of=/dev/null bs=1M` `passes` times, dropping the guest's page cache before
// each. Each pass is timed in the guest (adjtimex: microseconds) and, as a cross-check, on the
// host between marker lines the guest prints around it (those include a process start and a
// serial line each). The disk over virtio-mmio (kiln; QEMU -M microvm) or legacy virtio-PCI (kiln
// --transport pci; QEMU -M pc with virtio-blk-pci,disable-modern=on), there with MSI-X (Linux's
// virtio_pci takes it when offered) or, with pci=nomsi on the kernel command line, INTx.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "bench_options.h"
#include "common/result.h"

namespace kiln::bench {

// 1-2 vCPU kiln-kernel guests misbehave under the kvm-box's nested SVM; 4 do not.
inline constexpr int kLinuxCpus = 4;
inline constexpr const char* kLinuxMemory = "512M";

struct LinuxSetup {
  std::string kiln;
  std::string qemu;      // "" if there is none
  std::string qemu_accel = "kvm";
  std::string qemu_cpu;
  std::string qemu_aio;  // "" = QEMU's default (threads)
  std::string kernel;    // KILN_GUEST_KERNEL (vmlinux, PVH)
  std::string initrd;    // KILN_GUEST_INITRD
  std::string image;
  std::string append;    // extra kernel command-line words for both VMMs
  int passes = 3;
  int timeout_seconds = 900;  // per boot
};

struct LinuxBus {
  Transport transport = Transport::mmio;
  bool nomsi = false;  // pci=nomsi: INTx instead of MSI-X (PCI only)
};

// kiln run --kernel K --initrd I --cpus 4 --memory 512M --disk IMAGE --cmdline "... reboot=k ..."
// (and --transport pci).
[[nodiscard]] std::vector<std::string> kiln_linux_argv(const LinuxSetup& s, LinuxBus bus);

// QEMU -M microvm with its ACPI tables (default): QEMU appends no virtio_mmio.device= for a PVH
// kernel then, and the kiln kernel finds the disk as an LNRO0005 ACPI device; reboot=t (triple
// fault) with -no-reboot ends QEMU. The drive as for the probe (cache=writeback). Over PCI: -M pc
// (SeaBIOS, then the same vmlinux through PVH; the kernel finds bus 0 through ACPI) and
// virtio-blk-pci,disable-modern=on.
[[nodiscard]] std::vector<std::string> qemu_linux_argv(const LinuxSetup& s, LinuxBus bus);

struct LinuxFigures {
  std::vector<double> guest_mbps;  // per pass, timed in the guest; MB = 10^6 bytes
  std::vector<double> host_mbps;   // per pass, host clock between the marker lines
  int boot_hangs = 0;              // boots before this one that hung
};

// Boots with `argv` and collects the passes. A boot that does not reach /init within 30 s or does
// not finish within `timeout_seconds` is killed and retried (5 boots at most). An error (output
// on stderr) if the guest did not run the script to the end or a dd failed.
[[nodiscard]] Result<LinuxFigures> run_linux_dd(const std::vector<std::string>& argv, const LinuxSetup& s,
                                                uint64_t image_bytes);

}  // namespace kiln::bench
