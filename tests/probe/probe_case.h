// One probe run as the harness describes it (probe_test.cpp): the command line, the checks that
// must fail, checks of the lines and of the raw run, and the virtio devices to attach.
#pragma once

#include <chrono>
#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "probe_output.h"

namespace kiln::test {

// The virtio devices a case asks for; disk images are made per run (zeroed, disk_sectors long).
struct DeviceSpec {
  uint32_t disk_sectors = 0;  // 0: no disk
  bool readonly = false;
  const char* serial = "";
  bool rng = false;
  bool console = false;
};

struct ProbeCase {
  const char* name;
  const char* cmdline;
  std::vector<std::string> expected_failures;
  void (*extra)(const ProbeOutput&) = nullptr;  // scenario-specific checks of the lines
  DeviceSpec devices{};
  // Checks of the raw run: stdout, and the disk image afterwards ("" without a disk).
  void (*after)(const std::string& out, const std::string& disk) = nullptr;
  // How long kiln may take (scaled by KILN_TEST_TIME_SCALE): a scenario whose work is a count of
  // VM exits needs more on a loaded or emulated host than one that waits for a device.
  std::chrono::seconds limit{30};
  friend void PrintTo(const ProbeCase& c, std::ostream* os) { *os << '"' << c.cmdline << '"'; }
};

inline constexpr uint32_t kDiskSectors = 8192;  // 4 MiB

// Fails the test for every check in `checks` without a "PROBE ok" line.
void expect_ok(const ProbeOutput& out, const std::vector<std::string>& checks);

// The virtio scenarios (probe_virtio_cases.cpp): for kiln and QEMU microvm alike.
[[nodiscard]] std::vector<ProbeCase> virtio_probe_cases();
// Legacy virtio-PCI: kiln with --transport pci, and QEMU's PC machine.
[[nodiscard]] std::vector<ProbeCase> pci_probe_cases();
// Those, and kiln's own PCI bus seen by probe=pci-scan.
[[nodiscard]] std::vector<ProbeCase> kiln_pci_probe_cases();
// kiln with the disk on PCI (--disk PATH,transport=pci) and the rng on virtio-mmio: pci-scan,
// rng and virtio-pci each find their device on its own transport.
[[nodiscard]] std::vector<ProbeCase> kiln_mixed_transport_probe_cases();

}  // namespace kiln::test
